// tsc compiles the TypeScript only: the stores' Lua scripts are copied next to the compiled code that reads them.
import { cpSync } from 'node:fs';

cpSync(new URL('./src/store/lua', import.meta.url), new URL('./dist/store/lua', import.meta.url), { recursive: true });
