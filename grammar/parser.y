/* parser.y: the grammar of .rn into the Ast of rnc.h.
 *
 * Pure parser, no globals; the scanner and a ParseState (arena, diagnostics,
 * scanner position) are handed in. Statements end at NEWLINE; a syntax error
 * skips to the end of its line (`error NEWLINE`), so one run reports every
 * broken line, as jq's parser does. Semantic checks (what may appear inside
 * a block, positional after keyword arguments, ...) are elaborate.c's. */
%code requires {
#include "rnc.h"
#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* What the parser and the scanner share (the scanner's extra data). */
typedef struct ParseState {
    Arena *arena;
    Diag *diag;
    int line, col; /* the scanner's position, 1-based */
    int depth;     /* ( and [ nesting: newlines inside are not tokens */
    int braces;    /* { nesting, for a hint at the end of the file */
    Loc open_brace; /* the outermost '{' still open */
    bool at_eof;   /* the final NEWLINE was produced */
    Ast *prog;
} ParseState;

/* A list under construction: O(1) append, left-recursive rules. */
typedef struct AstList {
    Ast *head, *tail;
} AstList;
}

%define api.pure full
%define parse.error detailed
%define api.token.prefix {TOK_}
%locations
%expect 0
%param { yyscan_t scanner }
%parse-param { ParseState *st }

%union {
    Ast *ast;
    AstList list;
    const char *str;
    int64_t ival;
    double fval;
}

%code {
#include <string.h>

#include "lexer.h"

#define LOC(l) ((Loc){(l).first_line, (l).first_column})

static void yyerror(YYLTYPE *l, yyscan_t scanner, ParseState *st,
                    const char *msg) {
    (void)scanner;
    if (!strcmp(msg, "memory exhausted"))
        diag_error(st->diag, LOC(*l), "the program nests too deeply here");
    else if (st->at_eof && st->braces > 0)
        diag_error(st->diag, LOC(*l), "%s (the '{' on line %d is not closed)",
                   msg, st->open_brace.line);
    else if (st->at_eof && st->depth > 0)
        diag_error(st->diag, LOC(*l), "%s (a '(' or '[' is not closed)", msg);
    else
        diag_error(st->diag, LOC(*l), "%s", msg);
}

static Ast *node(ParseState *st, AstKind kind, YYLTYPE l) {
    return ast_new(st->arena, kind, LOC(l));
}

static Ast *binary(ParseState *st, AstOp op, Ast *lhs, Ast *rhs, YYLTYPE l) {
    Ast *n = node(st, AST_BINARY, l);
    n->op = op;
    n->lhs = lhs;
    n->rhs = rhs;
    return n;
}

static AstList list_one(Ast *n) {
    return (AstList){n, n};
}

static AstList list_add(AstList l, Ast *n) {
    if (!n) return l;
    if (!l.head) return list_one(n);
    l.tail->next = n;
    l.tail = n;
    return l;
}
}

%token END 0 "end of file"
%token NEWLINE "end of line"
%token <str> NAME "name" STRING "string"
%token <ival> INT "integer"
%token <fval> DECIMAL "decimal"
%token MODEL "'model'" INPUT "'input'" OUTPUT "'output'" BLOCK "'block'"
%token LAYER "'layer'" RETURN "'return'" FOR "'for'" IN "'in'" IF "'if'"
%token ELSE "'else'" TRUE "'true'" FALSE "'false'" AND "'and'" OR "'or'"
%token NOT "'not'" EQ "'=='" NE "'!='" LE "'<='" GE "'>='"

%type <ast> stmt line if_stmt expr primary call arg param
%type <list> stmts body params param_list args arg_list items item_list

%right '?' ':'
%left OR
%left AND
%precedence NOT
%nonassoc EQ NE '<' LE '>' GE
%left '+' '-'
%left '*' '/' '%'
%precedence UMINUS

%%

prog:
    stmts                       { st->prog = $1.head; }
    ;

stmts:
    %empty                      { $$ = (AstList){NULL, NULL}; }
  | stmts line                  { $$ = list_add($1, $2); }
  ;

line:
    NEWLINE                     { $$ = NULL; }
  | stmt NEWLINE                { $$ = $1; }
  | error NEWLINE               { $$ = NULL; yyerrok; }
  ;

/* The last statement before '}' may share its line. */
body:
    '{' stmts '}'               { $$ = $2; }
  | '{' stmts stmt '}'          { $$ = list_add($2, $3); }
  ;

stmt:
    MODEL NAME                  { $$ = node(st, AST_MODEL, @1); $$->str = $2; }
  | INPUT NAME '[' items ']'    {
        $$ = node(st, AST_INPUT, @2);
        $$->str = $2;
        $$->args = $4.head;
    }
  | NAME '=' expr               {
        $$ = node(st, AST_ASSIGN, @1);
        $$->str = $1;
        $$->lhs = $3;
    }
  | OUTPUT expr                 { $$ = node(st, AST_OUTPUT, @1); $$->lhs = $2; }
  | BLOCK NAME '(' params ')' body {
        $$ = node(st, AST_FUNC, @2);
        $$->str = $2;
        $$->args = $4.head;
        $$->body = $6.head;
    }
  | LAYER NAME '(' params ')' body {
        $$ = node(st, AST_FUNC, @2);
        $$->str = $2;
        $$->ival = 1;
        $$->args = $4.head;
        $$->body = $6.head;
    }
  | RETURN expr                 { $$ = node(st, AST_RETURN, @1); $$->lhs = $2; }
  | FOR NAME IN expr body       {
        $$ = node(st, AST_FOR, @1);
        $$->str = $2;
        $$->lhs = $4;
        $$->body = $5.head;
    }
  | if_stmt
  | expr                        { $$ = $1; /* refused by elaborate.c */ }
  ;

if_stmt:
    IF expr body                { $$ = node(st, AST_IF, @1); $$->cond = $2; $$->body = $3.head; }
  | IF expr body ELSE body      {
        $$ = node(st, AST_IF, @1);
        $$->cond = $2;
        $$->body = $3.head;
        $$->els = $5.head;
    }
  | IF expr body ELSE if_stmt   {
        $$ = node(st, AST_IF, @1);
        $$->cond = $2;
        $$->body = $3.head;
        $$->els = $5;
    }
  ;

params:
    %empty                      { $$ = (AstList){NULL, NULL}; }
  | param_list
  | param_list ','
  ;

param_list:
    param                       { $$ = list_one($1); }
  | param_list ',' param        { $$ = list_add($1, $3); }
  ;

param:
    NAME                        { $$ = node(st, AST_PARAM, @1); $$->str = $1; }
  | NAME '=' expr               { $$ = node(st, AST_PARAM, @1); $$->str = $1; $$->lhs = $3; }
  ;

expr:
    primary
  | expr '+' expr               { $$ = binary(st, BIN_ADD, $1, $3, @2); }
  | expr '-' expr               { $$ = binary(st, BIN_SUB, $1, $3, @2); }
  | expr '*' expr               { $$ = binary(st, BIN_MUL, $1, $3, @2); }
  | expr '/' expr               { $$ = binary(st, BIN_DIV, $1, $3, @2); }
  | expr '%' expr               { $$ = binary(st, BIN_MOD, $1, $3, @2); }
  | expr EQ expr                { $$ = binary(st, BIN_EQ, $1, $3, @2); }
  | expr NE expr                { $$ = binary(st, BIN_NE, $1, $3, @2); }
  | expr '<' expr               { $$ = binary(st, BIN_LT, $1, $3, @2); }
  | expr LE expr                { $$ = binary(st, BIN_LE, $1, $3, @2); }
  | expr '>' expr               { $$ = binary(st, BIN_GT, $1, $3, @2); }
  | expr GE expr                { $$ = binary(st, BIN_GE, $1, $3, @2); }
  | expr AND expr               { $$ = binary(st, BIN_AND, $1, $3, @2); }
  | expr OR expr                { $$ = binary(st, BIN_OR, $1, $3, @2); }
  | NOT expr                    { $$ = node(st, AST_UNARY, @1); $$->op = UN_NOT; $$->lhs = $2; }
  | '-' expr %prec UMINUS       { $$ = node(st, AST_UNARY, @1); $$->op = UN_NEG; $$->lhs = $2; }
  | expr '?' expr ':' expr      {
        $$ = node(st, AST_COND, @2);
        $$->cond = $1;
        $$->lhs = $3;
        $$->rhs = $5;
    }
  ;

primary:
    INT                         { $$ = node(st, AST_INT, @1); $$->ival = $1; }
  | DECIMAL                     { $$ = node(st, AST_FLOAT, @1); $$->fval = $1; }
  | STRING                      { $$ = node(st, AST_STRING, @1); $$->str = $1; }
  | TRUE                        { $$ = node(st, AST_BOOL, @1); $$->ival = 1; }
  | FALSE                       { $$ = node(st, AST_BOOL, @1); $$->ival = 0; }
  | NAME                        { $$ = node(st, AST_NAME, @1); $$->str = $1; }
  | call
  | '(' expr ')'                { $$ = $2; }
  | '[' items ']'               { $$ = node(st, AST_LIST, @1); $$->args = $2.head; }
  ;

call:
    NAME '(' args ')'           { $$ = node(st, AST_CALL, @1); $$->str = $1; $$->args = $3.head; }
  ;

args:
    %empty                      { $$ = (AstList){NULL, NULL}; }
  | arg_list
  | arg_list ','
  ;

arg_list:
    arg                         { $$ = list_one($1); }
  | arg_list ',' arg            { $$ = list_add($1, $3); }
  ;

arg:
    expr
  | NAME '=' expr               { $$ = node(st, AST_KWARG, @1); $$->str = $1; $$->lhs = $3; }
  ;

items:
    %empty                      { $$ = (AstList){NULL, NULL}; }
  | item_list
  | item_list ','
  ;

item_list:
    expr                        { $$ = list_one($1); }
  | item_list ',' expr          { $$ = list_add($1, $3); }
  ;

%%

Ast *parse_source(const Source *src, Arena *a, Diag *d) {
    ParseState st = {.arena = a, .diag = d, .line = 1, .col = 1};
    yyscan_t scanner;
    if (yylex_init_extra(&st, &scanner) != 0) die("cannot start the scanner");
    int before = d->nerrors;
    YY_BUFFER_STATE buf = yy_scan_bytes(src->text, (int)src->len, scanner);
    int rc = yyparse(scanner, &st);
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
    if (rc != 0 || d->nerrors != before) return NULL;
    if (!st.prog) /* elaborate() would say the same of an empty program */
        diag_error(d, (Loc){0, 0}, "the model has no output (add 'output "
                   "EXPR')");
    return st.prog;
}
