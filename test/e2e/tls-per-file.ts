/**
 * The test certificates (test/fixtures/tls.ts) are made once for each test file, in a temporary folder that the CLI
 * reads through NODE_EXTRA_CA_CERTS: removed after the file, once its servers and sandboxes are done.
 */
import { afterAll } from 'vitest';
import { removeTestTls } from '../fixtures/tls.js';

afterAll(removeTestTls);
