/** A plain text table: columns padded to their widest cell, two spaces apart, no trailing spaces. */
export function formatTable(header: string[], rows: string[][], visibleLength = stripAnsiLength): string {
  const widths = columnWidths(header, rows, visibleLength);
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - visibleLength(cell)),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export interface Fit {
  /** The terminal's width. */
  width: number;
  /** The column that gives way first, cut with "…". */
  shrink: number;
  /** The columns dropped, in this order, before the table would wrap. */
  drop: number[];
}

/**
 * The table within `fit.width` if it can be: first the shrinking column is cut (down to 24 characters), then the
 * droppable columns go one by one, then the shrinking column is cut further (down to 12). What still does not fit wraps,
 * as the terminal does.
 */
export function fitTable(header: string[], rows: string[][], fit: Fit, visibleLength = stripAnsiLength): string {
  const all = [header, ...rows];
  const width = (table: string[][]): number => columnWidths(table[0] ?? [], table.slice(1), visibleLength).reduce((sum, column) => sum + column + 2, -2);
  const attempts = [
    { dropped: 0, floor: Infinity },
    { dropped: 0, floor: 24 },
    ...fit.drop.map((_column, index) => ({ dropped: index + 1, floor: 24 })),
    { dropped: fit.drop.length, floor: 12 },
  ];
  let table = all;
  for (const { dropped, floor } of attempts) {
    const gone = new Set(fit.drop.slice(0, dropped));
    const kept = all.map((cells) => cells.filter((_cell, column) => !gone.has(column)));
    const shrinkAt = fit.shrink - fit.drop.slice(0, dropped).filter((column) => column < fit.shrink).length;
    // The shrinking column gets what the others leave it, but never less than the floor (nor its header).
    const others = width(kept.map((cells) => cells.filter((_cell, column) => column !== shrinkAt))) + 2;
    const room = Math.max(floor, fit.width - others, visibleLength(header[fit.shrink] ?? ''));
    table = kept.map((cells) => cells.map((cell, column) => (column === shrinkAt ? ellipsis(cell, room) : cell)));
    if (width(table) <= fit.width) break;
  }
  return formatTable(table[0] ?? [], table.slice(1), visibleLength);
}

function ellipsis(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(1, width - 1))}…`;
}

function columnWidths(header: string[], rows: string[][], visibleLength: (text: string) => number): number[] {
  // A loop, not Math.max(...cells): spreading 130,000 rows into arguments overflows the call stack.
  return header.map((cell, column) => rows.reduce((widest, row) => Math.max(widest, visibleLength(row[column] ?? '')), visibleLength(cell)));
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function stripAnsiLength(text: string): number {
  return text.replace(ANSI, '').length;
}
