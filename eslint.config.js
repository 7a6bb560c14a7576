import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layersPlugin } from './eslint.layers.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tmp/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Dependencies between the folders of src/ point down only; bench/ and test/ may import anything.
    // Every kind of source file tsc or Node would load, so that one other than .ts is refused, not missed.
    files: ['src/**/*.{ts,mts,cts,tsx,js,mjs,cjs,jsx}'],
    plugins: { mailgate: layersPlugin },
    rules: { 'mailgate/layers': 'error' },
  },
);
