// The official JS client (@qdrant/js-client-rest 1.18) manages collections on tessera.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QdrantClient } from '@qdrant/js-client-rest';
import { startTessera } from './harness.mjs';

let server;
const warnings = [];
const originalWarn = console.warn;

before(async () => {
  server = await startTessera();
  console.warn = (...args) => warnings.push(args.join(' '));
});

after(async () => {
  console.warn = originalWarn;
  await server.stop();
});

test('client connects without a compatibility warning', async () => {
  const client = new QdrantClient({ url: server.url });
  const info = await client.versionInfo();
  assert.match(info.version, /^1\.19\./);
  // The constructor's version check runs asynchronously; give it a moment to report.
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(warnings, []);
});

test('create, list, inspect, update and delete collections', async () => {
  const client = new QdrantClient({ url: server.url });
  assert.equal(
    await client.createCollection('js_books', { vectors: { size: 4, distance: 'Cosine' } }),
    true,
  );
  await client.createCollection('js_multi', {
    vectors: { image: { size: 3, distance: 'Euclid' }, text: { size: 8, distance: 'Dot' } },
    hnsw_config: { m: 24 },
    optimizers_config: { indexing_threshold: 0 },
  });

  const { collections } = await client.getCollections();
  assert.deepEqual(collections.map((c) => c.name).sort(), ['js_books', 'js_multi']);

  const books = await client.getCollection('js_books');
  assert.equal(books.status, 'green');
  assert.equal(books.points_count, 0);
  assert.deepEqual(books.config.params.vectors, { size: 4, distance: 'Cosine' });

  const multi = await client.getCollection('js_multi');
  assert.equal(multi.config.params.vectors.text.size, 8);
  assert.equal(multi.config.hnsw_config.m, 24);
  assert.equal(multi.config.optimizer_config.indexing_threshold, 0);

  assert.equal(
    await client.updateCollection('js_multi', { optimizers_config: { indexing_threshold: 500 } }),
    true,
  );
  const updated = await client.getCollection('js_multi');
  assert.equal(updated.config.optimizer_config.indexing_threshold, 500);

  assert.deepEqual(await client.collectionExists('js_books'), { exists: true });
  assert.equal(await client.deleteCollection('js_books'), true);
  assert.deepEqual(await client.collectionExists('js_books'), { exists: false });
  await client.deleteCollection('js_multi');
  assert.deepEqual((await client.getCollections()).collections, []);
});

test('aliases through the client', async () => {
  const client = new QdrantClient({ url: server.url });
  await client.createCollection('js_target', { vectors: { size: 2, distance: 'Dot' } });
  await client.updateCollectionAliases({
    actions: [{ create_alias: { collection_name: 'js_target', alias_name: 'js_alias' } }],
  });
  assert.deepEqual((await client.getAliases()).aliases, [
    { alias_name: 'js_alias', collection_name: 'js_target' },
  ]);
  assert.deepEqual((await client.getCollectionAliases('js_target')).aliases, [
    { alias_name: 'js_alias', collection_name: 'js_target' },
  ]);
  const viaAlias = await client.getCollection('js_alias');
  assert.equal(viaAlias.config.params.vectors.size, 2);
  await client.deleteCollection('js_target');
  assert.deepEqual((await client.getAliases()).aliases, []);
});

test('errors surface with Qdrant status codes', async () => {
  const client = new QdrantClient({ url: server.url });
  await assert.rejects(client.getCollection('js_missing'), (err) => {
    assert.equal(err.status, 404);
    assert.match(err.data.status.error, /doesn't exist/);
    return true;
  });
  await client.createCollection('js_dup', { vectors: { size: 2, distance: 'Dot' } });
  await assert.rejects(
    client.createCollection('js_dup', { vectors: { size: 2, distance: 'Dot' } }),
    (err) => err.status === 409,
  );
  await assert.rejects(
    client.createCollection('js_bad', { vectors: { size: 0, distance: 'Dot' } }),
    (err) => err.status === 422,
  );
  await client.deleteCollection('js_dup');
});

test('api key is sent and enforced', async () => {
  const secured = await startTessera(['--api-key', 'k3y']);
  try {
    const good = new QdrantClient({ url: secured.url, apiKey: 'k3y' });
    await good.createCollection('js_secure', { vectors: { size: 2, distance: 'Dot' } });
    assert.equal((await good.getCollections()).collections.length, 1);
    const bad = new QdrantClient({ url: secured.url, apiKey: 'nope', checkCompatibility: false });
    await assert.rejects(bad.getCollections(), (err) => err.status === 401);
  } finally {
    await secured.stop();
  }
});
