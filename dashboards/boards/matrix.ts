import { ConstantVariableBuilder, DashboardBuilder, DashboardLinkBuilder, DashboardLinkType, MappingType } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { RESULTS_STORE } from '../datasources.js';
import { matrixQuery } from '../queries/results-store.js';
import { SqlQueryBuilder } from '../sql-query.js';
import { at } from './panels.js';

export const MATRIX_UID = 'zfslab-matrix';

const STATE_COLOURS: Record<string, string> = { PASS: 'green', KNOWN: 'yellow', SKIP: 'text', INFRA: 'orange', FAIL: 'red' };

/**
 * Flavor × group of each flavor's latest run, one row per cell: Grafana's "grouping to matrix"
 * transformation would drop the run and log key each cell links to, so the cells stay rows, sorted
 * by group then flavor, coloured by state.
 */
export function matrixDashboard(): Dashboard {
  const query = matrixQuery();
  const table = new TableBuilder()
    .title(query.panel)
    .description('Each flavor’s latest run; state is the worst in the group: FAIL (unexpected), INFRA, KNOWN (baseline or flaky), PASS, SKIP.')
    .datasource(RESULTS_STORE)
    .gridPos(at(0, 0, 24, 20))
    .withTarget(new SqlQueryBuilder(RESULTS_STORE, query.sql).refId('A'))
    .mappings([
      {
        type: MappingType.ValueToText,
        options: Object.fromEntries(Object.entries(STATE_COLOURS).map(([state, color], index) => [state, { color, index }])),
      },
    ])
    .overrideByName('state', [
      { id: 'custom.cellOptions', value: { type: 'color-background' } },
      { id: 'links', value: [{ title: 'Run log', url: '${artifacts_url}/${__data.fields.log_key}', targetBlank: true }] },
    ])
    .overrideByName('log_key', [{ id: 'custom.hidden', value: true }]);
  return new DashboardBuilder('zfslab / Pass-fail matrix')
    .uid(MATRIX_UID)
    .tags(['zfslab', 'results'])
    .time({ from: 'now-30d', to: 'now' })
    .refresh('1m')
    .withVariable(
      new ConstantVariableBuilder('artifacts_url')
        .label('Artifact browser')
        .description('Where a cell’s log key opens: the MinIO console’s bucket browser of the fleet stack.')
        .value('http://localhost:9001/browser/zfslab'),
    )
    .link(new DashboardLinkBuilder('zfslab dashboards').type(DashboardLinkType.Dashboards).tags(['zfslab']).asDropdown(true).keepTime(true))
    .withPanel(table)
    .build();
}
