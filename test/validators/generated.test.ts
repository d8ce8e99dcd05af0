import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  generateDeclarations,
  generateValidators,
  VALIDATORS_FILE,
} from '../../scripts/build-validators.ts';

describe('generated validators (npm run build:validators)', () => {
  it('match the schemas: a schema changed without regenerating fails here', () => {
    expect(readFileSync(VALIDATORS_FILE, 'utf8')).toBe(generateValidators());
    expect(readFileSync(VALIDATORS_FILE.replace(/\.js$/, '.d.ts'), 'utf8')).toBe(
      generateDeclarations(),
    );
  });
});
