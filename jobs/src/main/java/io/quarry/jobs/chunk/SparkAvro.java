package io.quarry.jobs.chunk;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Spark schemas derived from the Avro schemas in {@code jobs/src/main/avro} (the source of truth for every dataset
 * Quarry writes), so a DataFrame written by Spark has exactly the Avro record's column names, types and
 * nullability. Supports what those schemas use: string, int, long, float, double, boolean, bytes, arrays of them,
 * and {@code ["null", T]} unions.
 */
public final class SparkAvro {
  private SparkAvro() {}

  /**
   * The Spark struct of an Avro record schema.
   *
   * @throws IllegalArgumentException for an Avro type this converter does not support
   */
  public static StructType structOf(Schema record) {
    StructType st = new StructType();
    for (Schema.Field f : record.getFields()) {
      Schema s = f.schema();
      boolean nullable = false;
      if (s.getType() == Schema.Type.UNION) {
        List<Schema> types = s.getTypes();
        if (types.size() != 2 || types.stream().noneMatch(t -> t.getType() == Schema.Type.NULL)) {
          throw new IllegalArgumentException(record.getName() + "." + f.name() + ": only [null, T] unions supported");
        }
        nullable = true;
        s = types.get(0).getType() == Schema.Type.NULL ? types.get(1) : types.get(0);
      }
      st = st.add(new StructField(f.name(), typeOf(s, record.getName() + "." + f.name()), nullable,
          org.apache.spark.sql.types.Metadata.empty()));
    }
    return st;
  }

  private static DataType typeOf(Schema s, String where) {
    return switch (s.getType()) {
      case STRING -> DataTypes.StringType;
      case INT -> DataTypes.IntegerType;
      case LONG -> DataTypes.LongType;
      case FLOAT -> DataTypes.FloatType;
      case DOUBLE -> DataTypes.DoubleType;
      case BOOLEAN -> DataTypes.BooleanType;
      case BYTES -> DataTypes.BinaryType;
      case ARRAY -> DataTypes.createArrayType(typeOf(s.getElementType(), where + "[]"), false);
      default -> throw new IllegalArgumentException(where + ": unsupported Avro type " + s.getType());
    };
  }
}
