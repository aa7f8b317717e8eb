// The complete rule table, typed over every primitive: a primitive without a rule does not compile.
// Each op family passes its own table to dispatch (so that dispatch imports no op family); this
// one puts them together, which is what makes the check (and the gradcheck suite reads it for the
// primitives without a gradient).

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

/** One rule per primitive. */
export type RuleTable = { [P in Prim]: Rule<P> };

/** Every primitive's shape and gradient rule, by name. */
export const RULES: RuleTable = {
  ...unaryRules,
  ...binaryRules,
  ...reduceRules,
  ...movementRules,
  ...matmulRules,
  ...indexRules,
  ...randomRules,
  ...convRules,
};
