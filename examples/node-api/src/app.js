'use strict';

const express = require('express');

const MAX_NAME = 100;

// validateItem returns an error message for a bad body, or null.
function validateItem(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return 'body must be a JSON object like {"name": "apple", "quantity": 3}';
  }
  const { name, quantity } = body;
  if (typeof name !== 'string' || name.trim() === '') {
    return 'name is required and must be a non-empty string';
  }
  if (name.length > MAX_NAME) {
    return `name must be at most ${MAX_NAME} characters`;
  }
  if (quantity !== undefined && (!Number.isInteger(quantity) || quantity < 0)) {
    return 'quantity must be a whole number of 0 or more';
  }
  return null;
}

// createApp builds the service with its own in-memory store, so every test
// gets a fresh one.
function createApp({ version = process.env.APP_VERSION || 'dev' } = {}) {
  const items = new Map();
  let nextId = 1;

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '10kb' }));

  app.get('/healthz', (req, res) => {
    res.json({ status: 'ok', version });
  });

  app.get('/items', (req, res) => {
    res.json({ items: [...items.values()] });
  });

  app.get('/items/:id', (req, res) => {
    const item = items.get(Number(req.params.id));
    if (!item) {
      return res.status(404).json({ error: `no item with id ${req.params.id}` });
    }
    res.json(item);
  });

  app.post('/items', (req, res) => {
    const problem = validateItem(req.body);
    if (problem) {
      return res.status(400).json({ error: problem });
    }
    const item = { id: nextId++, name: req.body.name.trim(), quantity: req.body.quantity ?? 1 };
    items.set(item.id, item);
    res.status(201).location(`/items/${item.id}`).json(item);
  });

  app.use((req, res) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
  });

  // Malformed or oversized JSON arrives here from express.json().
  app.use((err, req, res, next) => {
    const status = err.status >= 400 && err.status < 500 ? err.status : 500;
    const error = status === 500 ? 'internal error' : `invalid request body: ${err.type || err.message}`;
    if (status === 500) console.error(err);
    res.status(status).json({ error });
  });

  return app;
}

module.exports = { createApp, validateItem };
