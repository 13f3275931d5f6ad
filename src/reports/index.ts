/** Reports from `RunRecord[]`: Markdown and HTML leaderboards, record comparison and the regression gate. */
export { leaderboardMarkdown, markdownTable } from './markdown.js';
export { leaderboardHtml } from './html.js';
export { buildLeaderboard } from './leaderboard.js';
export type { Leaderboard, InputSection, Table } from './leaderboard.js';
export { buildChartData } from './chart-data.js';
export type { ChartData, ChartPoint } from './chart-data.js';
export { hutterCrossover } from './crossover.js';
export type { Crossover } from './crossover.js';
export { compareRecords, comparisonTable } from './compare.js';
export type { Comparison, ComparisonRow, ComparisonStatus, CompareOptions } from './compare.js';
export { checkAgainstBaseline, parseTolerance, parseBaseline, recordProblem } from './check.js';
export { newestRuns, labelRuns } from './runs.js';
export type { CheckResult } from './check.js';
export { writeFileAtomic } from '../common/atomic.js';
