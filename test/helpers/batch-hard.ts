// batch_hard_triplet_loss written with float labels [N, 1], so the path helpers (helpers/paths.ts)
// can run it: shared by the tests of its fused kernel and of its op-by-op path.

export const BATCH_HARD = `loss f(y_true: [N, 1], y_pred: [N, D]) =
  let sq = sum(y_pred^2, axis = 1)
  let d = relu(expand_dims(sq, axis = 1) + expand_dims(sq, axis = 0) - 2 * matmul(y_pred, transpose(y_pred)))
  let same = y_true == transpose(y_true)
  let i = indices(y_pred, axis = 0)
  let self = expand_dims(i, axis = 1) == expand_dims(i, axis = 0)
  let hardest_pos = max(where(same and not self, d, 0), axis = 1)
  let hardest_neg = min(where(same, inf, d), axis = 1)
  relu(hardest_pos - hardest_neg + 6)`;
