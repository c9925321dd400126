/** Cuts a stream of text chunks into lines without holding more than one partial line. */
export class LineSplitter {
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    let start = 0;
    const text = this.partial + chunk;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) break;
      this.onLine(text.slice(start, newline));
      start = newline + 1;
    }
    this.partial = text.slice(start);
  }

  /** Emits the last line when the stream did not end with a newline. */
  end(): void {
    if (this.partial !== '') this.onLine(this.partial);
    this.partial = '';
  }
}
