// Zachary's karate club: semi-supervised node classification with a two-layer graph convolutional
// network (Kipf & Welling, 2017), as in PyTorch Geometric's introduction.
//
// In 1977 a university karate club of 34 members split in two after a dispute between its instructor
// ("Mr. Hi", member 0) and its administrator ("Officer", member 33). Each member is a node, each of
// the 78 friendships an edge. Only members 0 and 33 are labelled; the GCN, seeing one-hot identity
// features and the friendships, predicts which faction each of the other 32 members joined.
// Result (seed 0, 200 epochs, js and wasm alike): 31 of the 32 unlabelled members right, test
// accuracy 96.9%; seeds 0-9 give 93.8-96.9%. The member it misses is 8 (Zachary's member 9), who has
// more friends on the Officer's side but followed Mr. Hi, the case Zachary's own model got wrong too.
// Run: node examples/karate-gcn.js [--epochs N] [--seed N]
import * as nb from 'nabla';

/** The number after `name` on the command line, or the default. @type {<T extends number | undefined>(name: string, dflt: T) => number | T} */
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const epochs = arg('--epochs', 200),
  seed = arg('--seed', 0);

// The friendships, 0-indexed as networkx's karate_club_graph() (Zachary 1977, via the UCINET data).
const EDGES = [
  [0, 1],
  [0, 2],
  [0, 3],
  [0, 4],
  [0, 5],
  [0, 6],
  [0, 7],
  [0, 8],
  [0, 10],
  [0, 11],
  [0, 12],
  [0, 13],
  [0, 17],
  [0, 19],
  [0, 21],
  [0, 31],
  [1, 2],
  [1, 3],
  [1, 7],
  [1, 13],
  [1, 17],
  [1, 19],
  [1, 21],
  [1, 30],
  [2, 3],
  [2, 7],
  [2, 8],
  [2, 9],
  [2, 13],
  [2, 27],
  [2, 28],
  [2, 32],
  [3, 7],
  [3, 12],
  [3, 13],
  [4, 6],
  [4, 10],
  [5, 6],
  [5, 10],
  [5, 16],
  [6, 16],
  [8, 30],
  [8, 32],
  [8, 33],
  [9, 33],
  [13, 33],
  [14, 32],
  [14, 33],
  [15, 32],
  [15, 33],
  [18, 32],
  [18, 33],
  [19, 33],
  [20, 32],
  [20, 33],
  [22, 32],
  [22, 33],
  [23, 25],
  [23, 27],
  [23, 29],
  [23, 32],
  [23, 33],
  [24, 25],
  [24, 27],
  [24, 31],
  [25, 31],
  [26, 29],
  [26, 33],
  [27, 33],
  [28, 31],
  [28, 33],
  [29, 32],
  [29, 33],
  [30, 32],
  [30, 33],
  [31, 32],
  [31, 33],
  [32, 33],
];
// networkx's 'club' attribute: these 17 members followed Mr. Hi, the other 17 the Officer.
const MR_HI = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 17, 19, 21]);
const FACTIONS = ['Mr. Hi', 'Officer'];
const N = 34;

// The data as published: 78 friendships, member 0 has 16 friends and member 33 has 17.
const degreeOf = (/** @type {number} */ v) => EDGES.filter(([a, b]) => a === v || b === v).length;
if (EDGES.length !== 78 || degreeOf(0) !== 16 || degreeOf(33) !== 17 || MR_HI.size !== 17) throw new Error('karate club data corrupted');

nb.manualSeed(seed);
// Each friendship goes both ways: 156 directed edges, row 0 sources, row 1 targets.
const edgeIndex = nb.tensor(
  [
    [...EDGES.map((e) => e[0]), ...EDGES.map((e) => e[1])],
    [...EDGES.map((e) => e[1]), ...EDGES.map((e) => e[0])],
  ],
  { dtype: 'int32' },
);
const x = nb.eye(N); // one-hot identity features: the network must learn from the structure alone
const labels = Array.from({ length: N }, (_, i) => (MR_HI.has(i) ? 0 : 1));
const y = nb.tensor(labels, { dtype: 'int32' });
const trainIdx = nb.tensor([0, 33], { dtype: 'int32' }); // the instructor and the administrator
const testMembers = Array.from({ length: N }, (_, i) => i).filter((i) => i !== 0 && i !== 33);

class GCN extends nb.nn.Module {
  /** @param {number} inChannels @param {number} hidden @param {number} classes */
  constructor(inChannels, hidden, classes) {
    super();
    this.conv1 = new nb.nn.GCNConv(inChannels, hidden);
    this.conv2 = new nb.nn.GCNConv(hidden, classes);
  }
  /** @param {nb.Tensor} x node features [N, in] @param {nb.Tensor} edgeIndex [2, E] int32 */
  forward(x, edgeIndex) {
    const h = nb.nn.functional.relu(this.conv1.forward(x, edgeIndex)); // (34, 16)
    return this.conv2.forward(h, edgeIndex); // (34, 2) logits
  }
}

const model = new GCN(N, 16, 2);
console.log(model.toString());
const optimizer = new nb.optim.Adam(model.parameters(), { lr: 0.01, weightDecay: 5e-4 }); // Kipf & Welling's settings

for (let epoch = 1; epoch <= epochs; epoch++) {
  const loss = nb.scope(() => {
    const logits = model.forward(x, edgeIndex);
    const l = nb.nn.functional.crossEntropy(logits.indexSelect(0, trainIdx), y.indexSelect(0, trainIdx));
    optimizer.zeroGrad();
    l.backward();
    optimizer.step();
    return l.detach();
  });
  if (epoch % 50 === 0 || epoch === epochs) console.log(`epoch ${epoch}: loss ${loss.itemSync().toFixed(4)}`);
  loss.dispose();
}

model.eval();
const pred = nb.noGrad(() => nb.scope(() => model.forward(x, edgeIndex).argmax(1))).dataSync();
for (let i = 0; i < N; i++) {
  const role = i === 0 || i === 33 ? ' (labelled)' : pred[i] === labels[i] ? '' : '  <- wrong';
  console.log(`member ${String(i).padStart(2)}: predicted ${FACTIONS[pred[i]].padEnd(7)} actual ${FACTIONS[labels[i]]}${role}`);
}
const correct = testMembers.filter((i) => pred[i] === labels[i]).length;
console.log(`test accuracy: ${((100 * correct) / testMembers.length).toFixed(1)}% (${correct}/${testMembers.length} unlabelled members)`);
