import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stack } from './helpers/env';
import { issuedSecrets } from './helpers/plugin-client';

// Runs last (file order): every api token and key the tests were given must be absent from the
// database, both through the driver and as bytes in the embedded server's data file on disk (its
// journal holds every write ever made, not only what is stored now).
describe('secrets at rest', () => {
  it('no plaintext api token or key is stored anywhere in the database', async () => {
    const tokens = issuedSecrets.filter((secret) => /^rkk?_/.test(secret));
    assert.ok(tokens.length >= 5, `the tests issued ${tokens.length} tokens`);

    const { db } = await stack();
    const dump: string[] = [];
    for (const { name } of await db.listCollections().toArray()) {
      for (const doc of await db.collection(name).find({}).toArray()) dump.push(JSON.stringify(doc));
    }
    const everything = dump.join('\n');
    assert.ok(everything.length > 1000, 'the dump holds the test data');
    for (const token of tokens)
      assert.equal(everything.includes(token), false, 'plaintext token found via the driver');

    const dataDir = join(process.env.TEST_SCRATCH_DIR!, 'mongo');
    const files = readdirSync(dataDir).filter((file) => file.endsWith('.journal') || file.endsWith('.mv.db'));
    assert.ok(files.length > 0, 'the data file exists');
    for (const file of files) {
      const bytes = readFileSync(join(dataDir, file));
      for (const token of tokens)
        assert.equal(bytes.includes(token), false, `plaintext token found in ${file}`);
    }
  });

  it('webhook secrets are stored encrypted when a key is configured', async () => {
    const secrets = issuedSecrets.filter((secret) => secret.startsWith('whsec_'));
    const { db } = await stack();
    const docs = await db.collection('instances').find({}).toArray();
    const everything = JSON.stringify(docs);
    for (const secret of secrets) assert.equal(everything.includes(secret), false);
    assert.ok(docs.every((doc) => doc.webhook_secret.alg === 'aes-256-gcm'));
  });
});
