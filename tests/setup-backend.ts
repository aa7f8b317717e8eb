// Runs before every test file: selects the backend of this vitest project (see vitest.config.ts).
import { setBackend } from '../src/index.js';

const name = process.env.NABLA_TEST_BACKEND;
if (name) await setBackend(name);
