export { renderJUnit, failureMessage } from './junit.js';
export { reportFromMatrix } from './from-matrix.js';
export { renderMarkdownSummary } from './markdown.js';
export type { MarkdownOptions } from './markdown.js';
export { renderTerminalMatrix } from './terminal.js';
export type { TerminalMatrixOptions } from './terminal.js';
export { buildMatrixReport, cellState, isInteresting, issueLabel, matrixTotals } from './model.js';
export type { CellState, JUnitReport, JUnitResult, JUnitSuite, MatrixCell, MatrixReport, MatrixRow, MatrixSourceResult, ReportTotals } from './model.js';
