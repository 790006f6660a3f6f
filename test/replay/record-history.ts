import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

// Records a workflow's history as a replay fixture (binary protobuf, what the SDK replays without a
// JSON conversion step). Development tool, run against a stack that has the run:
//   npx tsx test/replay/record-history.ts <workflow id> <fixture name>
// TEMPORAL_ADDRESS defaults to the local stack's 127.0.0.1:7233.

async function main() {
  const [workflowId, name] = process.argv.slice(2);
  if (!workflowId || !name) throw new Error('usage: record-history.ts <workflow id> <fixture name>');
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  try {
    const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const bytes = temporal.api.history.v1.History.encode(history).finish();
    const file = join(__dirname, 'histories', `${name}.history.pb`);
    writeFileSync(file, bytes);
    console.log(`${file}: ${history.events?.length ?? 0} events, ${bytes.length} bytes`);
  } finally {
    await connection.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
