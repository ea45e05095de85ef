/**
 * The self-contained HTML evaluation report: tables and charts (JFreeChart, rendered to inline SVG by Apache Batik's
 * SVG generator), no external resource, viewable offline. Spark-free.
 */
package io.quarry.report;
