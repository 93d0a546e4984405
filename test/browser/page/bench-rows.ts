/** The rows of the browser initial-sync benchmark: the same on the server and in the page's baseline. */
export function benchRow(i: number): { id: string; title: string; body: string } {
  return { id: `row-${String(i).padStart(7, '0')}`, title: `note ${i}`, body: `body of note ${i}, `.repeat(3) };
}
