// The complete rule table, typed over every primitive: a primitive without a rule does not compile.

import type { Prim } from '../backends/backend.js';
import type { Rule } from './rule.js';
import { unaryRules } from './unary.js';
import { binaryRules } from './binary.js';
import { reduceRules } from './reduce.js';
import { movementRules } from './movement.js';
import { matmulRules } from './matmul.js';
import { indexRules } from './indexing.js';
import { randomRules } from './random.js';
import { convRules } from './conv.js';

export type RuleTable = { [P in Prim]: Rule<P> };

let table: RuleTable | null = null;

/** Built on first use: the op families import dispatch, so they may not be evaluated yet at load time. */
export function rules(): RuleTable {
  table ??= {
    ...unaryRules,
    ...binaryRules,
    ...reduceRules,
    ...movementRules,
    ...matmulRules,
    ...indexRules,
    ...randomRules,
    ...convRules,
  };
  return table;
}
