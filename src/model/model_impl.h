/* Private declarations of the planner layer: the model object behind trn_model and the
 * per-layer parameter split that counting, weight bytes and printing share. */
#ifndef TRN_MODEL_IMPL_H
#define TRN_MODEL_IMPL_H

#include "trnsim/model.h"

typedef struct trn_model_embedded_model {
    const char *name; /* file name in models/ less ".json": the catalog name */
    const char *text; /* NUL-terminated JSON */
} trn_model_embedded_model;

/* Generated from models/<name>.json (cmake/embed_json.cmake); ends with {NULL, NULL}. */
extern const trn_model_embedded_model trn_model_embedded_models[];

struct trn_model {
    trn_model_config cfg;   /* its strings point into `strings` */
    char *strings;          /* name, file, source, architecture, quant method (one block) */
    unsigned char *sliding; /* per layer: 1 when the layer uses the sliding window */
    int bert_pooler;        /* BertModel, BertForPreTraining: pooler dense + bias */
    int bert_mlm;           /* BertForMaskedLM, BertForPreTraining: MLM head */
    int bert_nsp;           /* BertForPreTraining: next-sentence classifier */
};

/* One layer's parameters split by storage class (weight formats differ between them). */
typedef struct plan_lp {
    int64_t attn_matrix;   /* q/k/v/o (and MLA down/up) projection matrices */
    int64_t attn_small;    /* their biases, sinks, MLA latent norms */
    int64_t mlp_matrix;    /* dense MLP or shared-expert matrices */
    int64_t mlp_bias;      /* their biases */
    int64_t expert_matrix; /* routed-expert matrices, all experts */
    int64_t expert_bias;   /* routed-expert biases, all experts */
    int64_t expert_one;    /* matrices + biases of one routed expert */
    int64_t router;        /* router weight (+ bias) */
    int64_t norms;         /* the layer's two norms */
} plan_lp;

/* Layer i of m split by storage class (i in [0, layers)). */
void plan_layer_split(const trn_model *m, int64_t i, plan_lp *out);
/* Whether layer i has a routed-expert MLP. */
int plan_layer_is_moe(const trn_model_config *c, int64_t i);

#endif
