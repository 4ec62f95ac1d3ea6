/* placeholder grammar until the front end lands */
%code requires {
#include "rnc.h"
#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif
}
%define api.pure full
%locations
%param { yyscan_t scanner }
%code {
#include "lexer.h"
static void yyerror(YYLTYPE *l, yyscan_t s, const char *m) { (void)l; (void)s; (void)m; }
}
%token END 0
%%
prog: %empty ;
%%
Ast *parse_source(const Source *src, Arena *a, Diag *d) {
    (void)src; (void)a;
    diag_error(d, (Loc){1, 1}, "the parser is not written yet");
    return NULL;
}
