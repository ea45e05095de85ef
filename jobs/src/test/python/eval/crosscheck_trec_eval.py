"""Cross-checks Quarry's metrics.json against pytrec_eval (trec_eval 9.x) on the same run files and qrels.
usage: crosscheck.py <eval_dir> <qrels.tsv (BEIR)>"""
import json, sys, os, pytrec_eval
d, qrels_path = sys.argv[1], sys.argv[2]
qrels = {}
with open(qrels_path) as f:
    for i, line in enumerate(f):
        p = line.rstrip('\r\n').split('\t')
        if i == 0 and not p[2].lstrip('-').isdigit():
            continue
        qrels.setdefault(p[0], {})[p[1]] = int(p[2])
rep = json.load(open(os.path.join(d, 'metrics.json')))
names = {'nDCG@10': 'ndcg_cut_10', 'Recall@100': 'recall_100', 'P@10': 'P_10', 'MAP': 'map', 'Success@10': 'success_10'}
worst = 0.0
for st in rep['stages']:
    run = {}
    for line in open(os.path.join(d, st['runFile'])):
        q, _, doc, rank, score, tag = line.split()
        run.setdefault(q, {})[doc] = float(score)
    for q in qrels:
        run.setdefault(q, {})
    ev = pytrec_eval.RelevanceEvaluator(qrels, {'ndcg_cut.10', 'recall.100', 'P.10', 'map', 'success.10'})
    res = ev.evaluate(run)
    # MRR@10 = recip_rank on the run cut to its top 10 (trec_eval -M 10); trec_eval order: score desc, docno desc
    top10 = {q: dict(sorted(docs.items(), key=lambda kv: (-kv[1], [-ord(c) for c in kv[0]]))[:10]) for q, docs in run.items()}
    rr = pytrec_eval.RelevanceEvaluator(qrels, {'recip_rank'}).evaluate(top10)
    out = []
    for m, v in st['metrics'].items():
        if m == 'MRR@10':
            ref = sum(rr[q]['recip_rank'] for q in qrels) / len(qrels)
            per = {q: rr[q]['recip_rank'] for q in qrels}
        else:
            ref = sum(res[q][names[m]] for q in qrels) / len(qrels)
            per = {q: res[q][names[m]] for q in qrels}
        diff = abs(ref - v)
        pq = max(abs(per[q] - st['perQuery'][q][m]) for q in qrels)
        worst = max(worst, diff, pq)
        out.append(f"{m} quarry={v:.6f} trec_eval={ref:.6f} |d|={diff:.1e} max per-query |d|={pq:.1e}")
    print(st['name'] + ': ' + '; '.join(out))
print(f"worst absolute difference: {worst:.2e}")
sys.exit(0 if worst < 5e-5 else 1)
