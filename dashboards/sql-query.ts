import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/dashboard';

/**
 * A query of Grafana's SQL datasources (PostgreSQL, and the SQLite plugin): the foundation SDK
 * ships no builder for them, so this is the SDK's documented way to add a query type.
 * `format: table` hands Grafana the rows as they are; `time_series` wants a `time` column.
 */
export interface SqlQuery extends Dataquery {
  refId?: string;
  hide?: boolean;
  datasource?: DataSourceRef;
  rawSql: string;
  rawQuery: true;
  editorMode: 'code';
  format: 'table' | 'time_series';
}

export class SqlQueryBuilder implements Builder<Dataquery> {
  private readonly query: SqlQuery;

  constructor(datasource: DataSourceRef, rawSql: string, format: SqlQuery['format'] = 'table') {
    this.query = { datasource, rawSql, rawQuery: true, editorMode: 'code', format, _implementsDataqueryVariant() {} };
  }

  refId(refId: string): this {
    this.query.refId = refId;
    return this;
  }

  build(): SqlQuery {
    return this.query;
  }
}
