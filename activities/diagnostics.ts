import { hostname } from 'node:os';

export function createDiagnosticActivities() {
  return {
    async describeWorker(): Promise<string> {
      return `${hostname()}:${process.pid}`;
    },
  };
}

export type DiagnosticActivities = ReturnType<typeof createDiagnosticActivities>;
