/* test_frontend.c: the lexer (tokens, locations), the parser (AST shapes,
 * precedence, error recovery), diagnostics, and elaboration (names, Keras
 * counters, groups, unrolling, defaults, pruning, errors) on real programs,
 * including the two programs of language.md from examples/. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "rnc.h"
#include "unit.h"
#include "parser.h"
#include "lexer.h"

static Arena *A;
static char *errtext; /* what the last run printed through its Diag */
static size_t errlen;
static Diag D;
static Source S;

static FILE *open_err(void) {
    free(errtext);
    errtext = NULL;
    FILE *f = open_memstream(&errtext, &errlen);
    CU_ASSERT_FATAL(f != NULL);
    return f;
}

/* Parses `text`; the messages end up in errtext. */
static Ast *parse(const char *text) {
    S = (Source){"t.rn", text, strlen(text)};
    FILE *f = open_err();
    diag_init(&D, &S, f);
    Ast *prog = parse_source(&S, A, &D);
    fclose(f);
    return prog;
}

/* Parses and elaborates `text`; NULL on any error (see errtext). */
static Graph *build(const char *text) {
    S = (Source){"t.rn", text, strlen(text)};
    FILE *f = open_err();
    diag_init(&D, &S, f);
    Ast *prog = parse_source(&S, A, &D);
    Graph *g = prog ? elaborate(prog, "t", A, &D) : NULL;
    fclose(f);
    return g;
}

static Graph *build_file(const char *path) {
    char *text = read_whole_file(path, NULL);
    CU_ASSERT_FATAL(text != NULL);
    char *copy = arena_strdup(A, text);
    free(text);
    return build(copy);
}

static GNode *find(Graph *g, const char *path) {
    for (int i = 0; g && i < g->nnodes; i++)
        if (!strcmp(g->nodes[i]->path, path)) return g->nodes[i];
    return NULL;
}

static int count_op(Graph *g, OpKind op) {
    int n = 0;
    for (int i = 0; i < g->nnodes; i++) n += g->nodes[i]->op == op;
    return n;
}

static int setup(void) {
    A = arena_new();
    return 0;
}

static int teardown(void) {
    arena_free(A);
    free(errtext);
    errtext = NULL;
    return 0;
}

/* ---------------------------------------------------------------- lexer */

typedef struct Tok {
    int kind, line, col;
    YYSTYPE val;
} Tok;

static int lex_all(const char *text, Tok *out, int max) {
    S = (Source){"t.rn", text, strlen(text)};
    FILE *f = open_err();
    diag_init(&D, &S, f);
    ParseState st = {.arena = A, .diag = &D, .line = 1, .col = 1};
    yyscan_t sc;
    CU_ASSERT_FATAL(yylex_init_extra(&st, &sc) == 0);
    YY_BUFFER_STATE b = yy_scan_string(text, sc);
    int n = 0;
    for (;;) {
        YYSTYPE v;
        YYLTYPE l;
        memset(&v, 0, sizeof v);
        int k = yylex(&v, &l, sc);
        if (n < max) out[n] = (Tok){k, l.first_line, l.first_column, v};
        n++;
        if (k == TOK_END) break;
    }
    yy_delete_buffer(b, sc);
    yylex_destroy(sc);
    fclose(f);
    return n;
}

static void test_lex_tokens(void) {
    Tok t[64];
    int n = lex_all("x = conv2d(a,\n   3) # note\nif y <= 1.5e-3 {\n", t, 64);
    int want[] = {TOK_NAME, '=', TOK_NAME, '(', TOK_NAME, ',', TOK_INT, ')',
                  TOK_NEWLINE, TOK_IF, TOK_NAME, TOK_LE, TOK_DECIMAL, '{',
                  TOK_NEWLINE, TOK_NEWLINE, TOK_END}; /* one more at EOF */
    CU_ASSERT_EQUAL_FATAL(n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < n; i++) CU_ASSERT_EQUAL(t[i].kind, want[i]);
    CU_ASSERT_STRING_EQUAL(t[2].val.str, "conv2d");
    CU_ASSERT_EQUAL(t[2].line, 1);
    CU_ASSERT_EQUAL(t[2].col, 5);
    /* the 3 continues line 1's call on line 2, column 4 */
    CU_ASSERT_EQUAL(t[6].val.ival, 3);
    CU_ASSERT_EQUAL(t[6].line, 2);
    CU_ASSERT_EQUAL(t[6].col, 4);
    CU_ASSERT_EQUAL(t[8].line, 2); /* the NEWLINE after the comment */
    CU_ASSERT_EQUAL(t[9].line, 3);
    CU_ASSERT_EQUAL(t[9].col, 1);
    CU_ASSERT_DOUBLE_EQUAL(t[12].val.fval, 1.5e-3, 1e-12);
    CU_ASSERT_EQUAL(t[12].col, 9);
    CU_ASSERT_EQUAL(D.nerrors, 0);
}

static void test_lex_keywords_strings(void) {
    Tok t[32];
    int n = lex_all("model input output block layer return for in else true "
                    "false and or not == != >= \"a\\\"b\\\\c\\n\" input_x",
                    t, 32);
    int want[] = {TOK_MODEL, TOK_INPUT, TOK_OUTPUT, TOK_BLOCK, TOK_LAYER,
                  TOK_RETURN, TOK_FOR, TOK_IN, TOK_ELSE, TOK_TRUE, TOK_FALSE,
                  TOK_AND, TOK_OR, TOK_NOT, TOK_EQ, TOK_NE, TOK_GE,
                  TOK_STRING, TOK_NAME, TOK_NEWLINE, TOK_END};
    CU_ASSERT_EQUAL_FATAL(n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < n; i++) CU_ASSERT_EQUAL(t[i].kind, want[i]);
    CU_ASSERT_STRING_EQUAL(t[17].val.str, "a\"b\\c\n");
    CU_ASSERT_STRING_EQUAL(t[18].val.str, "input_x");
}

static void test_lex_errors(void) {
    Tok t[16];
    lex_all("n = 9223372036854775807", t, 16);
    CU_ASSERT_EQUAL(t[2].kind, TOK_INT);
    CU_ASSERT_EQUAL(t[2].val.ival, INT64_MAX);
    CU_ASSERT_EQUAL(D.nerrors, 0);
    lex_all("n = 9223372036854775808", t, 16);
    CU_ASSERT_EQUAL(t[2].kind, TOK_YYerror);
    CU_ASSERT_EQUAL(D.nerrors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(errtext, "t.rn:1:5: error: integer "
                                           "9223372036854775808 is too large"));
    lex_all("x $ y", t, 16);
    CU_ASSERT_EQUAL(t[1].kind, TOK_YYerror);
    CU_ASSERT_PTR_NOT_NULL(strstr(errtext, "t.rn:1:3: error: unexpected "
                                           "character '$'"));
    lex_all("s = \"open", t, 16);
    CU_ASSERT_EQUAL(t[2].kind, TOK_YYerror);
    CU_ASSERT_PTR_NOT_NULL(strstr(errtext, "unterminated string"));
}

/* --------------------------------------------------------------- parser */

static void test_parse_precedence(void) {
    Ast *p = parse("x = 1 + 2 * -3\ny = a or b and not c\n"
                   "z = c ? 1 : 2 + 3\nw = (1 + 2) * 3 % 4\n");
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_EQUAL(p->kind, AST_ASSIGN);
    CU_ASSERT_STRING_EQUAL(p->str, "x");
    Ast *e = p->lhs; /* 1 + (2 * (-3)) */
    CU_ASSERT_EQUAL(e->kind, AST_BINARY);
    CU_ASSERT_EQUAL(e->op, BIN_ADD);
    CU_ASSERT_EQUAL(e->lhs->ival, 1);
    CU_ASSERT_EQUAL(e->rhs->op, BIN_MUL);
    CU_ASSERT_EQUAL(e->rhs->rhs->kind, AST_UNARY);
    CU_ASSERT_EQUAL(e->rhs->rhs->op, UN_NEG);
    CU_ASSERT_EQUAL(e->loc.col, 7); /* a binary node sits at its operator */

    e = p->next->lhs; /* a or (b and (not c)) */
    CU_ASSERT_EQUAL(e->op, BIN_OR);
    CU_ASSERT_STRING_EQUAL(e->lhs->str, "a");
    CU_ASSERT_EQUAL(e->rhs->op, BIN_AND);
    CU_ASSERT_EQUAL(e->rhs->rhs->kind, AST_UNARY);
    CU_ASSERT_EQUAL(e->rhs->rhs->op, UN_NOT);

    e = p->next->next->lhs; /* c ? 1 : (2 + 3) */
    CU_ASSERT_EQUAL(e->kind, AST_COND);
    CU_ASSERT_STRING_EQUAL(e->cond->str, "c");
    CU_ASSERT_EQUAL(e->rhs->op, BIN_ADD);

    e = p->next->next->next->lhs; /* ((1 + 2) * 3) % 4 */
    CU_ASSERT_EQUAL(e->op, BIN_MOD);
    CU_ASSERT_EQUAL(e->lhs->op, BIN_MUL);
    CU_ASSERT_EQUAL(e->lhs->lhs->op, BIN_ADD);
    CU_ASSERT_PTR_NULL(p->next->next->next->next);

    /* comparisons do not chain */
    CU_ASSERT_PTR_NULL(parse("x = a == b == c\n"));
    CU_ASSERT_EQUAL(D.nerrors, 1);
}

static void test_parse_statements(void) {
    Ast *p = parse("model net\n"
                   "layer unit(x, filters, stride=1,) {\n"
                   "    return conv2d(x, filters, 3, stride=stride)\n"
                   "}\n"
                   "input image[32, 32,\n 3]\n"
                   "for f in [8, 16] { x = unit(x, f) }\n"
                   "if a { b = 1 } else if c { b = 2 } # two\n"
                   "\n  # or else\n"
                   "else { b = 3 }\n"
                   "output x");
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_EQUAL(p->kind, AST_MODEL);
    CU_ASSERT_STRING_EQUAL(p->str, "net");
    Ast *fn = p->next;
    CU_ASSERT_EQUAL(fn->kind, AST_FUNC);
    CU_ASSERT_EQUAL(fn->ival, 1);
    CU_ASSERT_STRING_EQUAL(fn->args->next->next->str, "stride");
    CU_ASSERT_EQUAL(fn->args->next->next->lhs->ival, 1);
    CU_ASSERT_PTR_NULL(fn->args->next->lhs);
    Ast *ret = fn->body;
    CU_ASSERT_EQUAL(ret->kind, AST_RETURN);
    Ast *call = ret->lhs;
    CU_ASSERT_EQUAL(call->kind, AST_CALL);
    CU_ASSERT_EQUAL(call->loc.line, 3);
    CU_ASSERT_EQUAL(call->loc.col, 12);
    Ast *kw = call->args->next->next->next;
    CU_ASSERT_EQUAL(kw->kind, AST_KWARG);
    CU_ASSERT_STRING_EQUAL(kw->str, "stride");
    CU_ASSERT_STRING_EQUAL(kw->lhs->str, "stride");
    Ast *in = fn->next;
    CU_ASSERT_EQUAL(in->kind, AST_INPUT);
    CU_ASSERT_EQUAL(in->args->next->next->ival, 3);
    Ast *loop = in->next;
    CU_ASSERT_EQUAL(loop->kind, AST_FOR);
    CU_ASSERT_EQUAL(loop->lhs->kind, AST_LIST);
    CU_ASSERT_EQUAL(loop->body->kind, AST_ASSIGN);
    Ast *cond = loop->next;
    CU_ASSERT_EQUAL(cond->kind, AST_IF);
    CU_ASSERT_EQUAL(cond->els->kind, AST_IF); /* else if */
    CU_ASSERT_EQUAL(cond->els->els->kind, AST_ASSIGN); /* else, next line */
    CU_ASSERT_EQUAL(cond->els->els->lhs->ival, 3);
    CU_ASSERT_EQUAL(cond->next->kind, AST_OUTPUT);
    CU_ASSERT_EQUAL(D.nerrors, 0);
}

static void test_parse_recovery(void) {
    Ast *p = parse("x = conv2d(a,, 3)\ny = 1\nz = = 2\nw = (3\n");
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL(D.nerrors, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(errtext, "t.rn:1:14: error: syntax error, "
                                           "unexpected ','"));
    CU_ASSERT_PTR_NOT_NULL(strstr(errtext, "t.rn:3:5: error: syntax error"));
    CU_ASSERT_PTR_NOT_NULL(strstr(errtext, "not closed"));
}

/* ---------------------------------------------------------------- diag */

static void test_diag_format(void) {
    S = (Source){"f.rn", "a = 1\n\tb = c\n", 13};
    FILE *f = open_err();
    diag_init(&D, &S, f);
    diag_error(&D, (Loc){2, 6}, "undefined variable '%s'", "c");
    diag_note(&D, (Loc){1, 1}, "called from here");
    diag_error(&D, (Loc){0, 0}, "no output");
    fclose(f);
    CU_ASSERT_STRING_EQUAL(errtext,
                           "f.rn:2:6: error: undefined variable 'c'\n"
                           "  \tb = c\n"
                           "  \t    ^\n"
                           "f.rn:1:1: note: called from here\n"
                           "  a = 1\n"
                           "  ^\n"
                           "f.rn: error: no output\n");
    CU_ASSERT_EQUAL(D.nerrors, 2);
}

static void test_did_you_mean(void) {
    const char *const words[] = {"padding", "stride", "relu", "relu6", NULL};
    CU_ASSERT_STRING_EQUAL(did_you_mean("paddng", words), "padding");
    CU_ASSERT_STRING_EQUAL(did_you_mean("strides", words), "stride");
    CU_ASSERT_STRING_EQUAL(did_you_mean("relu7", words), "relu"); /* tie: first */
    CU_ASSERT_STRING_EQUAL(did_you_mean("relu66", words), "relu6");
    CU_ASSERT_STRING_EQUAL(did_you_mean("rlu", words), "relu");
    CU_ASSERT_PTR_NULL(did_you_mean("pad", words));     /* 4 edits away */
    CU_ASSERT_PTR_NULL(did_you_mean("sigmoid", words)); /* nothing close */
    CU_ASSERT_STRING_EQUAL(did_you_mean("stride", words), "stride");
}

/* ----------------------------------------------------------- elaboration */

static void test_small_residual(void) {
    Graph *g = build_file("../../examples/small_residual.rn");
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT_STRING_EQUAL(g->name, "small_residual");
    static const char *const names[] = {
        "image", "rescaling", "conv2d", "conv2d_1", "max_pooling2d",
        "conv2d_2", "add", "conv2d_3", "conv2d_4", "max_pooling2d_1",
        "conv2d_5", "add_1", "conv2d_6", "conv2d_7", "conv2d_8", "add_2",
        "global_average_pooling2d", "dense"};
    CU_ASSERT_EQUAL_FATAL(g->nnodes, 18);
    for (int i = 0; i < 18; i++) {
        CU_ASSERT_STRING_EQUAL(g->nodes[i]->name, names[i]);
        CU_ASSERT_EQUAL(g->nodes[i]->id, i);
        CU_ASSERT_PTR_NULL(g->nodes[i]->group);
    }
    CU_ASSERT_EQUAL(g->ninputs, 1);
    CU_ASSERT_EQUAL(g->noutputs, 1);
    CU_ASSERT_EQUAL(g->ngroups, 0);
    GNode *r = find(g, "rescaling");
    CU_ASSERT_DOUBLE_EQUAL(r->scale, 1.0 / 255, 1e-15);
    /* the second conv of the third block: made on line 6, called on 20 */
    GNode *c = find(g, "conv2d_7");
    CU_ASSERT_EQUAL(c->loc.line, 6);
    CU_ASSERT_EQUAL(c->site.line, 20);
    CU_ASSERT_EQUAL(c->act, ACT_RELU);
    CU_ASSERT_EQUAL(c->padding, PAD_SAME);
    CU_ASSERT_EQUAL(c->filters, 128);
    /* pooling=true chose the strided 1x1 skip; the third block the plain */
    CU_ASSERT_EQUAL(find(g, "conv2d_2")->sh, 2);
    CU_ASSERT_EQUAL(find(g, "conv2d_8")->sh, 1);
    CU_ASSERT_EQUAL(find(g, "conv2d_8")->kh, 1);
    GNode *add = find(g, "add_2");
    CU_ASSERT_EQUAL(add->nin, 2);
    CU_ASSERT_PTR_EQUAL(add->in[0], find(g, "conv2d_7"));
    CU_ASSERT_PTR_EQUAL(add->in[1], find(g, "conv2d_8"));
    CU_ASSERT_EQUAL(find(g, "dense")->act, ACT_SIGMOID);
    CU_ASSERT_EQUAL(graph_totals(g).params, 297697);
}

static void test_resnet34(void) {
    Graph *g = build_file("../../examples/resnet34.rn");
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT_STRING_EQUAL(g->name, "resnet34");
    CU_ASSERT_EQUAL_FATAL(g->ngroups, 16);
    CU_ASSERT_STRING_EQUAL(g->groups[0]->name, "residual_unit");
    CU_ASSERT_STRING_EQUAL(g->groups[15]->name, "residual_unit_15");
    CU_ASSERT_STRING_EQUAL(g->groups[4]->klass, "ResidualUnit");
    CU_ASSERT_PTR_NULL(g->groups[4]->parent);
    /* the fifth unit's second conv2d */
    GNode *c = find(g, "residual_unit_4.conv2d_1");
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_STRING_EQUAL(c->name, "conv2d_1");
    CU_ASSERT_PTR_EQUAL(c->group, g->groups[4]);
    CU_ASSERT_EQUAL(c->filters, 128);
    CU_ASSERT_FALSE(c->bias);
    CU_ASSERT_EQUAL(c->site.line, 21); /* the call in the for loop */
    CU_ASSERT_EQUAL(c->loc.line, 6);
    /* units 3, 7 and 13 change width: stride 2 and a projection skip */
    CU_ASSERT_PTR_NOT_NULL(find(g, "residual_unit_3.conv2d_2"));
    CU_ASSERT_EQUAL(find(g, "residual_unit_3.conv2d")->sh, 2);
    CU_ASSERT_PTR_NOT_NULL(find(g, "residual_unit_7.batch_normalization_2"));
    CU_ASSERT_PTR_NULL(find(g, "residual_unit_4.conv2d_2"));
    CU_ASSERT_PTR_NULL(find(g, "residual_unit.conv2d_2"));
    /* top-level counters are not disturbed by the units' */
    CU_ASSERT_PTR_NOT_NULL(find(g, "conv2d"));
    CU_ASSERT_PTR_NULL(find(g, "conv2d_1"));
    CU_ASSERT_PTR_NOT_NULL(find(g, "dense"));
    CU_ASSERT_EQUAL(count_op(g, OP_CONV2D), 1 + 16 * 2 + 3);
    CU_ASSERT_EQUAL(count_op(g, OP_BATCHNORM), 1 + 16 * 2 + 3);
    CU_ASSERT_EQUAL(count_op(g, OP_ADD), 16);
    /* each group's result is its final relu */
    CU_ASSERT_EQUAL(g->groups[15]->result->op, OP_ACTIVATION);
    CU_ASSERT_PTR_EQUAL(g->groups[15]->result->group, g->groups[15]);
    for (int i = 0; i < g->nnodes; i++) {
        CU_ASSERT_EQUAL(g->nodes[i]->id, i);
        for (int k = 0; k < g->nodes[i]->nin; k++)
            CU_ASSERT(g->nodes[i]->in[k]->id < i); /* topological */
    }
    Totals t = graph_totals(g);
    CU_ASSERT_EQUAL(t.params, 21306826);
    CU_ASSERT_EQUAL(t.trainable, 21289802);
}

static void test_loops_conditions_values(void) {
    Graph *g = build("input x[8, 8, 4]\n"
                     "n = 0\n"
                     "for i in range(3) {\n"
                     "    x = relu(x)\n"
                     "    n = n + i\n"
                     "}\n"
                     "if n == 3 and not false { x = conv2d(x, 64 / 2, 1) }\n"
                     "else { x = conv2d(x, 7, 1) }\n"
                     "k = -7 % 3 + len([1] * 4 + [2])\n"
                     "x = conv2d(x, k, [1, 2], padding=[1, 2, 3, 4])\n"
                     "h = 3 > 2 ? height(x) : 0\n"
                     "output dense(global_avgpool(x), channels(x) + h)\n");
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT_STRING_EQUAL(g->name, "t_model"); /* t: a name the C uses */
    CU_ASSERT_STRING_EQUAL(g->nodes[1]->name, "activation");
    CU_ASSERT_STRING_EQUAL(g->nodes[3]->name, "activation_2");
    CU_ASSERT_EQUAL(count_op(g, OP_ACTIVATION), 3);
    GNode *c = find(g, "conv2d");
    CU_ASSERT_EQUAL(c->filters, 32); /* exact integer division */
    GNode *c1 = find(g, "conv2d_1");
    CU_ASSERT_EQUAL(c1->filters, 2 + 5); /* -7 % 3 is 2, as in Python */
    CU_ASSERT_EQUAL(c1->kh, 1);
    CU_ASSERT_EQUAL(c1->kw, 2);
    CU_ASSERT_EQUAL(c1->padding, PAD_EXPLICIT);
    CU_ASSERT(c1->pad_t == 1 && c1->pad_b == 2 && c1->pad_l == 3 &&
              c1->pad_r == 4);
    /* 8 + 1 + 2 - 1 + 1 = 11 high */
    CU_ASSERT_EQUAL(find(g, "dense")->filters, 7 + 11);
}

static void test_defaults_keywords(void) {
    Graph *g = build("block stage(x, filters, kernel=filters / 8, act=relu) {\n"
                     "    return conv2d(x, filters, kernel, activation=act)\n"
                     "}\n"
                     "input x[32, 32, 3]\n"
                     "a = stage(x, 16)\n"
                     "b = stage(act=\"tanh\", filters=24, x=a)\n"
                     "c = maxpool(b, [2, 3])\n"
                     "d = avgpool(c, 2, stride=1, padding=same)\n"
                     "output batchnorm(d, epsilon=1e-5, name=\"bn\")\n");
    CU_ASSERT_FATAL(g != NULL);
    GNode *a = find(g, "conv2d"), *b = find(g, "conv2d_1");
    CU_ASSERT_EQUAL(a->kh, 2); /* the default saw the earlier parameter */
    CU_ASSERT_EQUAL(a->act, ACT_RELU);
    CU_ASSERT_TRUE(a->bias);
    CU_ASSERT_EQUAL(a->sh, 1);
    CU_ASSERT_EQUAL(a->padding, PAD_VALID);
    CU_ASSERT_EQUAL(b->kh, 3);
    CU_ASSERT_EQUAL(b->filters, 24);
    CU_ASSERT_EQUAL(b->act, ACT_TANH);
    CU_ASSERT_PTR_EQUAL(b->in[0], a);
    GNode *mp = find(g, "max_pooling2d");
    CU_ASSERT(mp->kh == 2 && mp->kw == 3 && mp->sh == 2 && mp->sw == 3);
    GNode *ap = find(g, "average_pooling2d");
    CU_ASSERT(ap->sh == 1 && ap->padding == PAD_SAME);
    GNode *bn = find(g, "bn");
    CU_ASSERT_FATAL(bn != NULL);
    CU_ASSERT_DOUBLE_EQUAL(bn->epsilon, 1e-5, 1e-12);
    CU_ASSERT_PTR_NULL(find(g, "batch_normalization"));
}

static void test_nested_layers_and_pruning(void) {
    Graph *g = build("layer inner(x) { return relu(conv2d(x, 4, 1)) }\n"
                     "layer OuterBlock(x) {\n"
                     "    y = inner(x)\n"
                     "    unused = conv2d(x, 4, 1)\n"
                     "    return inner(y)\n"
                     "}\n"
                     "input x[8, 8, 3]\n"
                     "a = OuterBlock(x)\n"
                     "dead = dense(flatten(x), 3)\n"
                     "output OuterBlock(a)\n");
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT_PTR_NOT_NULL(find(g, "outer_block.inner_1.conv2d"));
    GNode *c = find(g, "outer_block_1.inner.conv2d");
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_STRING_EQUAL(c->group->name, "inner");
    CU_ASSERT_STRING_EQUAL(c->group->klass, "Inner");
    CU_ASSERT_STRING_EQUAL(c->group->parent->klass, "OuterBlock");
    CU_ASSERT_STRING_EQUAL(c->group->path, "outer_block_1.inner");
    CU_ASSERT_EQUAL(c->site.line, 10);
    /* dead layers are gone: the unused conv2d_1 of each outer block, the
     * flatten and the dense; ids stay dense */
    CU_ASSERT_PTR_NULL(find(g, "outer_block.conv2d"));
    CU_ASSERT_PTR_NULL(find(g, "dense"));
    CU_ASSERT_PTR_NULL(find(g, "flatten"));
    CU_ASSERT_EQUAL(g->nnodes, 1 + 2 * 4);
    for (int i = 0; i < g->nnodes; i++) CU_ASSERT_EQUAL(g->nodes[i]->id, i);
    CU_ASSERT_EQUAL(g->ngroups, 6);
}

static void test_functions_as_values(void) {
    Graph *g = build("layer unit(x, f) { return relu(conv2d(x, f, 1)) }\n"
                     "block stage(x, body, n) {\n"
                     "    for i in range(n) { x = body(x, 4 * (i + 1)) }\n"
                     "    return x\n"
                     "}\n"
                     "input x[4, 4, 2]\n"
                     "y = stage(x, unit, 3)\n"
                     "output unit(y, 2, name=\"head\")\n");
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT_EQUAL(g->ngroups, 4);
    CU_ASSERT_STRING_EQUAL(g->groups[2]->name, "unit_2");
    CU_ASSERT_EQUAL(find(g, "unit_2.conv2d")->filters, 12);
    GNode *h = find(g, "head.conv2d");
    CU_ASSERT_FATAL(h != NULL);
    CU_ASSERT_EQUAL(h->filters, 2);
    CU_ASSERT_STRING_EQUAL(h->group->klass, "Unit");
    /* a block takes no name= */
    CU_ASSERT_PTR_NULL(build("block b(x) { return relu(x) }\ninput i[4]\n"
                             "output b(i, name=\"n\")\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(errtext, "b has no argument 'name'"));
}

/* Elaborating `text` fails with a message containing `want`. */
static void expect_error(const char *text, const char *want) {
    Graph *g = build(text);
    CU_ASSERT_PTR_NULL(g);
    if (!errtext || !strstr(errtext, want)) {
        fprintf(stderr, "\nwanted: %s\ngot: %s\n", want, errtext ? errtext : "");
        CU_FAIL("message");
    }
}

static void test_errors(void) {
    expect_error("block b(x) { return x + conv2d(x, 5, 1) }\n"
                 "input i[4, 4, 2]\noutput b(i)\n",
                 "t.rn:1:23: error: add: shapes (None, 4, 4, 2) and "
                 "(None, 4, 4, 5) differ (on each axis the sizes must agree "
                 "or one be 1)\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(errtext, "t.rn:3:8: note: in b, called from "
                                           "here"));
    expect_error("input i[4]\noutput dense(i, 2, activaton=relu)\n",
                 "t.rn:2:20: error: dense has no argument 'activaton' (did "
                 "you mean 'activation'?)");
    expect_error("input i[4]\nx = [0] * 1000000000\noutput i\n",
                 "too long");
    expect_error("input i[4]\nx = i\ny = z\noutput x\n",
                 "undefined variable 'z'");
    expect_error("input i[4]\noutput dens(i, 3)\n",
                 "unknown op or block 'dens' (did you mean 'dense'?)");
    expect_error("block f(x) { return f(x) }\ninput i[4]\noutput f(i)\n",
                 "calls nest too deep");
    expect_error("input i[4]\ninput j[4]\noutput i\n",
                 "t.rn:2:7: error: input 'j' is not used by any output");
    expect_error("input i[4]\nx = relu(i, name=\"i\")\noutput x\n",
                 "duplicate layer name 'i'");
    expect_error("input i[4]\nx = 1 / 0\noutput i\n", "division by zero");
    expect_error("input i[4]\noutput dense(i, 2.5)\n",
                 "dense: units must be a positive integer, got 2.5");
    expect_error("input i[4]\noutput conv2d(i, 3, 3)\n", "conv2d: ");
    expect_error("", "no output");
    expect_error("block f(x, n) { return f(x, n + 1) }\ninput i[4]\n"
                 "output f(i, 0)\n",
                 "t.rn:1:24: note: in f, called from here (63 times)\n");
    expect_error("input i[4]\nx = i\nfor a in range(1000) {\n"
                 "  for b in range(1000) { x = x }\n}\noutput x\n",
                 "t.rn:4:26: error: the program runs too long");
    expect_error("input i[4]\nx = relu(i, name=\"\")\noutput x\n",
                 "relu: name must not be empty");
    expect_error("input i[4]\nx = relu(i, name=2)\noutput x\n",
                 "relu: name must be a string, got 2");
    /* imported models keep their names; trainable=false freezes */
    Graph *g = build("input i[4]\nx = dense(i, 2, name=\"fc.0 (head)/1\", "
                     "trainable=false)\noutput x\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_STRING_EQUAL(g->nodes[1]->path, "fc.0 (head)/1");
    CU_ASSERT_EQUAL(g->nodes[1]->params, 10);
    CU_ASSERT_EQUAL(g->nodes[1]->trainable, 0);
    /* one bad program does not poison the next one */
    CU_ASSERT_PTR_NOT_NULL(build("input i[4]\noutput relu(i)\n"));
}

void register_frontend_tests(void) {
    CU_pSuite s = CU_add_suite("frontend", setup, teardown);
    if (!s) exit(2);
    CU_add_test(s, "lexer tokens and locations", test_lex_tokens);
    CU_add_test(s, "lexer keywords and strings", test_lex_keywords_strings);
    CU_add_test(s, "lexer errors", test_lex_errors);
    CU_add_test(s, "parser precedence", test_parse_precedence);
    CU_add_test(s, "parser statements", test_parse_statements);
    CU_add_test(s, "parser error recovery", test_parse_recovery);
    CU_add_test(s, "diag format", test_diag_format);
    CU_add_test(s, "did you mean", test_did_you_mean);
    CU_add_test(s, "small_residual", test_small_residual);
    CU_add_test(s, "resnet34", test_resnet34);
    CU_add_test(s, "loops, conditions, values", test_loops_conditions_values);
    CU_add_test(s, "defaults and keywords", test_defaults_keywords);
    CU_add_test(s, "nested layers and pruning", test_nested_layers_and_pruning);
    CU_add_test(s, "functions as values", test_functions_as_values);
    CU_add_test(s, "errors", test_errors);
}
