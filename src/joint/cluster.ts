/**
 * Hierarchical clustering of inputs by a symmetric distance (NCD): average linkage (UPGMA),
 * and the dendrogram's drawing coordinates. Pure functions, no chart library.
 */

export interface ClusterNode {
  /** Leaf: the input's name. Internal nodes have none. */
  name?: string;
  /** Merge height: the average distance between the two merged clusters (0 for leaves). */
  height: number;
  /** Leaves below (1 for a leaf). */
  size: number;
  children?: [ClusterNode, ClusterNode];
}

/**
 * UPGMA: repeatedly merge the two clusters whose average pairwise leaf distance is smallest.
 * Ties go to the earliest pair (row-major), so the tree is deterministic. Heights never
 * decrease upwards for average linkage, so the tree draws as a proper dendrogram.
 */
export function averageLinkage(names: readonly string[], distance: readonly (readonly number[])[]): ClusterNode {
  const n = names.length;
  if (n === 0) throw new Error('cannot cluster zero inputs');
  if (distance.length !== n || distance.some((row) => row.length !== n)) throw new Error(`distance matrix must be ${n}×${n}`);
  type Cluster = { node: ClusterNode; leaves: number[] };
  let clusters: Cluster[] = names.map((name, i) => ({ node: { name, height: 0, size: 1 }, leaves: [i] }));
  const between = (a: Cluster, b: Cluster) => {
    let sum = 0;
    for (const i of a.leaves) for (const j of b.leaves) sum += distance[i][j];
    return sum / (a.leaves.length * b.leaves.length);
  };
  while (clusters.length > 1) {
    let best = { i: 0, j: 1, d: Infinity };
    for (let i = 0; i < clusters.length; i++) {
      for (let j = i + 1; j < clusters.length; j++) {
        const d = between(clusters[i], clusters[j]);
        if (d < best.d) best = { i, j, d };
      }
    }
    const [a, b] = [clusters[best.i], clusters[best.j]];
    const merged: Cluster = {
      node: { height: best.d, size: a.node.size + b.node.size, children: [a.node, b.node] },
      leaves: [...a.leaves, ...b.leaves],
    };
    clusters = clusters.filter((_, k) => k !== best.i && k !== best.j);
    clusters.push(merged);
  }
  return clusters[0].node;
}

/** Leaf names left to right (the order the dendrogram lists them). */
export function leafOrder(tree: ClusterNode): string[] {
  return tree.children ? tree.children.flatMap(leafOrder) : [tree.name ?? ''];
}

export interface Dendrogram {
  /** Leaves in drawing order; leaf i sits at y = i, x = 0. */
  leaves: string[];
  /** One elbow per merge: child1 → up to the merge height → across → down to child2, as [x, y] points. */
  links: [number, number][][];
  /** Largest merge height (the x extent). */
  maxHeight: number;
}

/** Coordinates for a horizontal dendrogram: x = merge height (distance), y = leaf position. */
export function dendrogram(tree: ClusterNode): Dendrogram {
  const leaves: string[] = [];
  const links: [number, number][][] = [];
  const place = (node: ClusterNode): number => {
    if (!node.children) {
      leaves.push(node.name ?? '');
      return leaves.length - 1;
    }
    const [a, b] = node.children;
    const ya = place(a);
    const yb = place(b);
    links.push([[a.height, ya], [node.height, ya], [node.height, yb], [b.height, yb]]);
    return (ya + yb) / 2;
  };
  place(tree);
  return { leaves, links, maxHeight: tree.height };
}
