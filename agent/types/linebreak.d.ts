// The package ships no types; this covers the part Paperback uses (what pdfkit uses).
declare module 'linebreak' {
  export default class LineBreaker {
    constructor(text: string);
    /** The next place a line may (or, when required, must) break; null at the end. */
    nextBreak(): { position: number; required: boolean } | null;
  }
}
