/** Where the shared data lives: `../shared` beside the checkout (models, faces), as in CI. */
import path from 'node:path';

export const SHARED_DIR = path.resolve(import.meta.dirname, '..', '..', '..', 'shared');
export const FACES_DIR = path.join(SHARED_DIR, 'faces');
