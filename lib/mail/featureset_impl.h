/*
 * featureset_impl.h - the parse tree of RFC 2533 expressions, shared by the two halves
 * of the feature-set module (featureset.c: values, tree, parser, printer;
 * featureset_match.c: matching and intersection). Not part of the contract: other
 * modules use featureset.h only.
 */
#ifndef FAXPOST_MAIL_FEATURESET_IMPL_H
#define FAXPOST_MAIL_FEATURESET_IMPL_H

#include <stdint.h>

#include "mail/featureset.h"

#define FS_MAX_NODES	2048	/* parse tree nodes per expression */
#define FS_MAX_CONJ	4096	/* DNF conjunctions during intersection */
#define FS_MAX_LITS	(1u << 18)	/* DNF literals in all */
#define FS_MAX_DIGITS	18

enum { V_NUM, V_TOK, V_STR, V_BOOL };
enum { N_AND, N_OR, N_NOT, N_SIMPLE, N_SET, N_FALSE, N_CALL /* only while parsing */ };
enum { OP_EQ, OP_LE, OP_GE };
enum { P_EQ, P_LE, P_GE, P_NE, P_NL, P_NG };

typedef struct fs_value {
	int kind;
	int64_t num, den;	/* V_NUM: reduced, den > 0 */
	char *text;		/* token/string text; V_NUM: unit designator or NULL */
} fs_value;

typedef struct fs_setent {
	fs_value lo, hi;
	int range;
} fs_setent;

struct fs_expr {
	int kind;
	int q;			/* ;q= in thousandths, -1 when absent */
	size_t n;		/* kids (AND/OR/NOT) or set entries */
	fs_expr **kids;
	char *tag;		/* SIMPLE/SET */
	int op;			/* SIMPLE */
	fs_value val;		/* SIMPLE */
	fs_setent *ent;		/* SET */
};

/* shared by featureset.c (parse, print) and featureset_match.c (match, intersect) */
int fs_value_is_num(const fs_value *v);
const char *fs_value_unit(const fs_value *v);
int fs_num_cmp(const fs_value *a, const fs_value *b);
int fs_value_eq(const fs_value *a, const fs_value *b);
void fs_value_copy(fs_value *dst, const fs_value *src);
void fs_value_free(fs_value *v);
int fs_unit_eq(const char *a, const char *b);
fs_expr *fs_node_new(int kind);
void fs_node_add(fs_expr *e, fs_expr *kid);
fs_expr *fs_node_copy(const fs_expr *e);

#endif
