/**
 * What commands print: a result has a JSON form (for `--json`, parsed by scripts) and a text form
 * for people (lines, or a table with aligned columns). Bytes print as lowercase hex in both.
 */

/** A command's result. `text` defaults to the JSON when a command has nothing nicer to show. */
export interface Output {
  readonly json: unknown;
  readonly text?: string;
}

/** One column of a table: the row field it shows and its heading. */
export interface Column {
  readonly key: string;
  readonly title: string;
}

/** Bytes as lowercase hex. */
export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Rows as a table: a heading line, then one line per row, columns padded to their widest cell
 * (the last one is not padded). `(none)` for no rows.
 *
 * @example
 * table([{ key: 'id', title: 'ID' }, { key: 'label', title: 'LABEL' }], [{ id: '01', label: 'my key' }]);
 * // 'ID  LABEL\n01  my key'
 */
export function table(columns: readonly Column[], rows: readonly Readonly<Record<string, string>>[]): string {
  if (rows.length === 0) return '(none)';
  const cells = [columns.map((c) => c.title), ...rows.map((row) => columns.map((c) => row[c.key] ?? ''))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells
    .map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .map((line) => line.trimEnd())
    .join('\n');
}

/** `name: value` lines with the values aligned. */
export function fields(entries: readonly (readonly [string, string])[]): string {
  const width = Math.max(...entries.map(([name]) => name.length)) + 1;
  return entries.map(([name, value]) => `${`${name}:`.padEnd(width)} ${value}`).join('\n');
}

/** JSON text of a result: bigints as decimal strings, bytes as hex, two-space indentation. */
export function jsonText(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Uint8Array) return hexOf(v);
      return v;
    },
    2,
  );
}

/** A spec name without its prefix, in lower case: `CKF_TOKEN_INITIALIZED` -> `token_initialized`. */
export function shortName(name: string): string {
  return name.replace(/^CK[A-Z]?_/, '').toLowerCase();
}
