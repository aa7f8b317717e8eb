// The tiny Shakespeare corpus (public domain, nanoGPT's input.txt, 1,115,394 bytes), kept in the
// repository at data/tinyshakespeare.txt so every clone can run the language-model tests.
import { fileURLToPath } from 'node:url';

export const SHAKESPEARE_PATH = fileURLToPath(new URL('../../data/tinyshakespeare.txt', import.meta.url));
