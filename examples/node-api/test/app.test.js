'use strict';

const { describe, it, beforeEach, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { createApp } = require('../src/app');

// Each test gets its own server on an ephemeral port on the loopback address.
let server, base;

beforeEach(async () => {
  server = createApp({ version: '1.2.3' }).listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  base = `http://127.0.0.1:${server.address().port}`;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function post(path, body) {
  return fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('GET /healthz', () => {
  it('reports ok and the version', async () => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /application\/json/);
    assert.deepEqual(await res.json(), { status: 'ok', version: '1.2.3' });
  });
});

describe('/items', () => {
  it('starts empty', async () => {
    const res = await fetch(`${base}/items`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { items: [] });
  });

  it('creates an item, then lists and fetches it', async () => {
    const created = await post('/items', { name: '  apple ', quantity: 3 });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), '/items/1');
    assert.deepEqual(await created.json(), { id: 1, name: 'apple', quantity: 3 });

    await post('/items', { name: 'pear' });
    const list = await (await fetch(`${base}/items`)).json();
    assert.deepEqual(list.items, [
      { id: 1, name: 'apple', quantity: 3 },
      { id: 2, name: 'pear', quantity: 1 },
    ]);

    const one = await fetch(`${base}/items/2`);
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), { id: 2, name: 'pear', quantity: 1 });
  });

  it('accepts a name at the length limit and a zero quantity', async () => {
    const res = await post('/items', { name: 'x'.repeat(100), quantity: 0 });
    assert.equal(res.status, 201);
    assert.equal((await res.json()).quantity, 0);
  });

  it('returns 404 for an unknown item', async () => {
    const res = await fetch(`${base}/items/42`);
    assert.equal(res.status, 404);
    assert.match((await res.json()).error, /no item with id 42/);
  });

  for (const [what, body, message] of [
    ['a missing name', { quantity: 1 }, /name is required/],
    ['a blank name', { name: '   ' }, /name is required/],
    ['a too long name', { name: 'x'.repeat(101) }, /at most 100/],
    ['a negative quantity', { name: 'a', quantity: -1 }, /quantity/],
    ['a fractional quantity', { name: 'a', quantity: 1.5 }, /quantity/],
    ['an array body', [{ name: 'a' }], /JSON object/],
  ]) {
    it(`refuses ${what} with 400 and stores nothing`, async () => {
      const res = await post('/items', body);
      assert.equal(res.status, 400);
      assert.match((await res.json()).error, message);
      assert.deepEqual(await (await fetch(`${base}/items`)).json(), { items: [] });
    });
  }

  it('refuses malformed JSON with 400', async () => {
    const res = await post('/items', '{"name": ');
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /invalid request body/);
  });

  it('refuses a body over 10kb with 413', async () => {
    const res = await post('/items', { name: 'a', pad: 'x'.repeat(11 * 1024) });
    assert.equal(res.status, 413);
  });
});

describe('unknown routes', () => {
  it('answer 404 in JSON', async () => {
    const res = await fetch(`${base}/nope`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'no route for GET /nope' });
  });
});
