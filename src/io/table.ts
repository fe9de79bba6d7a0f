/** A plain text table: columns padded to their widest cell, two spaces apart, no trailing spaces. */
export function formatTable(header: string[], rows: string[][], visibleLength = stripAnsiLength): string {
  // A loop, not Math.max(...cells): spreading 130,000 rows into arguments overflows the call stack.
  const widths = header.map((cell, column) =>
    rows.reduce((widest, row) => Math.max(widest, visibleLength(row[column] ?? '')), visibleLength(cell)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - visibleLength(cell)),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function stripAnsiLength(text: string): number {
  return text.replace(ANSI, '').length;
}
