/** A rendered table: what the leaderboard, series and joint views hand to the Markdown and HTML writers. */
export type Align = 'left' | 'right' | 'center';

export interface Table {
  headers: string[];
  align: Align[];
  rows: string[][];
}
