// The official JS client (@qdrant/js-client-rest 1.18) drives every points endpoint on tessera.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QdrantClient } from '@qdrant/js-client-rest';
import { startTessera } from './harness.mjs';

let server;
let client;
const C = 'js_points';

before(async () => {
  server = await startTessera();
  client = new QdrantClient({ url: server.url, checkCompatibility: false });
  await client.createCollection(C, { vectors: { size: 3, distance: 'Cosine' } });
});

after(async () => {
  await server.stop();
});

test('upsert (list and batch), retrieve, count', async () => {
  const r1 = await client.upsert(C, {
    wait: true,
    points: [
      { id: 1, vector: [1, 0, 0], payload: { color: 'red', n: 1 } },
      { id: 2, vector: [0, 1, 0], payload: { color: 'blue', n: 2 } },
      { id: '550e8400-e29b-41d4-a716-446655440000', vector: [0, 0, 1], payload: { color: 'red' } },
    ],
  });
  assert.equal(r1.status, 'completed');
  assert.equal(typeof r1.operation_id, 'number');
  const r2 = await client.upsert(C, {
    wait: false,
    ordering: 'medium',
    batch: { ids: [3, 4], vectors: [[1, 1, 0], [0, 1, 1]], payloads: [{ color: 'green' }, { color: 'red' }] },
  });
  assert.equal(r2.status, 'acknowledged');
  await client.upsert(C, { wait: true, points: [{ id: 5, vector: [1, 0, 1] }] });

  const records = await client.retrieve(C, { ids: [1, 3], with_vector: true });
  assert.deepEqual(records.map((r) => r.id).sort(), [1, 3]);
  const one = records.find((r) => r.id === 1);
  assert.deepEqual(one.payload, { color: 'red', n: 1 });
  assert.deepEqual(one.vector, [1, 0, 0]);
  assert.equal((await client.count(C, { exact: true })).count, 6);
  assert.equal(
    (await client.count(C, { filter: { must: [{ key: 'color', match: { value: 'red' } }] } })).count,
    3,
  );
});

test('query and legacy search with filters', async () => {
  const { points } = await client.query(C, {
    query: [1, 0.1, 0],
    limit: 3,
    with_payload: true,
    filter: { must: [{ key: 'color', match: { any: ['red', 'green'] } }] },
  });
  assert.equal(points[0].id, 1);
  assert.ok(points.every((p) => ['red', 'green'].includes(p.payload.color)));
  assert.ok(points[0].score > points[1].score);
  const hits = await client.search(C, { vector: [0, 1, 0], limit: 2 });
  assert.equal(hits[0].id, 2);
  assert.ok(Math.abs(hits[0].score - 1) < 1e-6);
});

test('payload operations', async () => {
  await client.setPayload(C, { payload: { tag: 'x' }, points: [1, 2] });
  await client.overwritePayload(C, { payload: { only: true }, points: [3] });
  await client.deletePayload(C, { keys: ['n'], points: [1] });
  await client.clearPayload(C, { points: [4] });
  const byId = Object.fromEntries(
    (await client.retrieve(C, { ids: [1, 2, 3, 4] })).map((r) => [r.id, r.payload]),
  );
  assert.deepEqual(byId[1], { color: 'red', tag: 'x' });
  assert.deepEqual(byId[2], { color: 'blue', n: 2, tag: 'x' });
  assert.deepEqual(byId[3], { only: true });
  assert.deepEqual(byId[4], {});
});

test('vector updates and deletes, batch, scroll, delete by filter', async () => {
  await client.updateVectors(C, { points: [{ id: 5, vector: [0, 0, 2] }] });
  const [five] = await client.retrieve(C, { ids: [5], with_vector: true });
  assert.deepEqual(five.vector, [0, 0, 1]); // Cosine vectors are stored normalised
  await client.deleteVectors(C, { points: [5], vector: [''] });
  const [bare] = await client.retrieve(C, { ids: [5], with_vector: true });
  assert.equal(bare.vector, undefined);
  await client.upsert(C, { points: [{ id: 5, vector: [1, 0, 1] }] });

  const results = await client.batchUpdate(C, {
    operations: [
      { upsert: { points: [{ id: 10, vector: [1, 1, 1], payload: { color: 'red' } }] } },
      { set_payload: { payload: { batch: true }, points: [10] } },
    ],
  });
  assert.equal(results.length, 2);
  await assert.rejects(
    client.batchUpdate(C, {
      operations: [
        { upsert: { points: [{ id: 11, vector: [1, 1, 1] }] } },
        { update_vectors: { points: [{ id: 999, vector: [1, 0, 0] }] } },
      ],
    }),
    (err) => err.status === 404,
  );
  assert.equal((await client.retrieve(C, { ids: [11] })).length, 0);

  const ids = [];
  let offset;
  do {
    const page = await client.scroll(C, { limit: 2, offset, with_payload: false });
    ids.push(...page.points.map((p) => p.id));
    offset = page.next_page_offset ?? undefined;
  } while (offset !== undefined);
  assert.deepEqual(ids, [1, 2, 3, 4, 5, 10, '550e8400-e29b-41d4-a716-446655440000']);

  await client.delete(C, { filter: { must: [{ key: 'color', match: { value: 'red' } }] } });
  assert.equal((await client.count(C)).count, 4);
  await client.delete(C, { points: [2] });
  assert.equal((await client.count(C)).count, 3);
});

test('errors surface with Qdrant codes', async () => {
  await assert.rejects(
    client.upsert(C, { points: [{ id: 1, vector: [1, 0] }] }),
    (err) => err.status === 400 && /dimension/.test(err.data.status.error),
  );
  await assert.rejects(
    client.setPayload(C, { payload: { a: 1 }, points: [12345] }),
    (err) => err.status === 404,
  );
});
