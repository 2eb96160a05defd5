// Generated from stdlib/*.loss by src/api/typegen.ts: do not edit (test/types.test.ts checks it;
// LOSSC_WRITE_TYPES=1 npx vitest run test/types.test.ts rewrites it).

export type OptionValue = number | boolean | string | null | number[] | number[][];

/** Each stdlib loss's own options (snake_case; camelCase twins are added by WithCamel). */
export interface StdlibLossOptions {
  mean_squared_error: Record<never, never>;
  mse: Record<never, never>;
  mean_absolute_error: Record<never, never>;
  mae: Record<never, never>;
  mean_absolute_percentage_error: Record<never, never>;
  mape: Record<never, never>;
  mean_squared_logarithmic_error: Record<never, never>;
  msle: Record<never, never>;
  huber: {
    delta?: number | number[] | null;
  };
  huber_loss: {
    delta?: number | number[] | null;
  };
  log_cosh: Record<never, never>;
  logcosh: Record<never, never>;
  elementwise_squared_error: Record<never, never>;
  kl_divergence: Record<never, never>;
  kld: Record<never, never>;
  kullback_leibler_divergence: Record<never, never>;
  poisson: Record<never, never>;
  binary_crossentropy: {
    from_logits?: boolean;
    label_smoothing?: number | number[] | null;
    axis?: number | number[] | null;
  };
  bce: {
    from_logits?: boolean;
    label_smoothing?: number | number[] | null;
    axis?: number | number[] | null;
  };
  binary_focal_crossentropy: {
    apply_class_balancing?: boolean;
    alpha?: number | number[] | null;
    gamma?: number | number[] | null;
    from_logits?: boolean;
    label_smoothing?: number | number[] | null;
    axis?: number | number[] | null;
  };
  categorical_crossentropy: {
    from_logits?: boolean;
    label_smoothing?: number | number[] | null;
    axis?: number | number[] | null;
  };
  categorical_focal_crossentropy: {
    alpha?: number | number[] | null;
    gamma?: number | number[] | null;
    from_logits?: boolean;
    label_smoothing?: number | number[] | null;
    axis?: number | number[] | null;
  };
  sparse_categorical_crossentropy: {
    from_logits?: boolean;
    ignore_class?: OptionValue;
    axis?: number | number[] | null;
  };
  categorical_generalized_cross_entropy: {
    q?: number | number[] | null;
  };
  hinge: Record<never, never>;
  squared_hinge: Record<never, never>;
  categorical_hinge: Record<never, never>;
  dice: {
    axis?: OptionValue;
  };
  tversky: {
    alpha?: number | number[] | null;
    beta?: number | number[] | null;
    axis?: OptionValue;
  };
  cosine_similarity: {
    axis?: number | number[] | null;
  };
  circle: {
    gamma?: number | number[] | null;
    margin?: number | number[] | null;
    remove_diagonal?: boolean;
    ref_labels?: OptionValue;
    ref_embeddings?: OptionValue;
  };
  ctc: Record<never, never>;
  focal_loss: {
    gamma?: number | number[] | null;
    alpha?: number | number[] | null;
    from_logits?: boolean;
  };
  categorical_focal_loss: {
    gamma?: number | number[] | null;
    alpha?: number | number[] | null;
    from_logits?: boolean;
  };
  fbeta_loss: {
    beta?: number | number[] | null;
  };
  triplet_loss: {
    margin?: number | number[] | null;
  };
  batch_hard_triplet_loss: {
    margin?: number | number[] | null;
  };
  quadruplet_loss: {
    margin1?: number | number[] | null;
    margin2?: number | number[] | null;
  };
  contrastive_loss: {
    margin?: number | number[] | null;
  };
}

/** Each stdlib regularizer's options. */
export interface StdlibRegularizerOptions {
  l1: {
    l1?: number | number[] | null;
  };
  l2: {
    l2?: number | number[] | null;
  };
  l1_l2: {
    l1?: number | number[] | null;
    l2?: number | number[] | null;
  };
  orthogonal: {
    factor?: number | number[] | null;
    mode?: string;
  };
}
