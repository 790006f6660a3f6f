import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

export interface Temporal {
  connection: Connection;
  client: Client;
}

/** A lazy connection: the API starts (and reports itself unhealthy) while Temporal is down. */
export function createTemporal(config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>): Temporal {
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS, connectTimeout: 5_000 });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  return { connection, client };
}

export async function pingTemporal(temporal: Temporal): Promise<boolean> {
  try {
    await temporal.connection.withDeadline(Date.now() + 2_000, () =>
      temporal.connection.workflowService.getSystemInfo({}),
    );
    return true;
  } catch {
    return false;
  }
}
