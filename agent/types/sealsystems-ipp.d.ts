// The package ships no types; this covers the part Paperback uses.
declare module '@sealsystems/ipp' {
  import type { Agent } from 'node:http';
  export interface IppResponse {
    version: string;
    statusCode: string;
    id: number;
    'operation-attributes-tag'?: Record<string, unknown>;
    'printer-attributes-tag'?: Record<string, unknown>;
    'job-attributes-tag'?: Record<string, unknown>;
    'unsupported-attributes-tag'?: Record<string, unknown>;
  }
  export interface IppMessage {
    'operation-attributes-tag': Record<string, unknown>;
    'job-attributes-tag'?: Record<string, unknown>;
    data?: Buffer | NodeJS.ReadableStream;
  }
  export interface PrinterOptions {
    timeout?: number;
    agent?: Agent;
    auth?: string;
    uri?: string;
    version?: string;
  }
  export interface IppPrinter {
    execute(operation: string, msg: IppMessage, cb: (err: Error | null, res: IppResponse) => void): void;
  }
  export function Printer(url: string, opts?: PrinterOptions): IppPrinter;
  const ipp: { Printer: typeof Printer };
  export default ipp;
}
