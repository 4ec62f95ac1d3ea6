/* pool.c: a fixed pool of worker threads for the generated layers.
 *
 * rn_pool_run is called once per layer per inference, so a call must cost
 * microseconds. The caller publishes a job and bumps a generation counter;
 * workers that finished the previous job are still spinning on that counter
 * and start at once, the others sleep on a condition variable and are woken
 * only when some worker is asleep. Tasks are handed out by an atomic
 * counter; the caller works too, then waits for the workers that took part.
 *
 * The generation and the number of workers taking part share one 64-bit
 * atomic so a worker reads both consistently: a worker not taking part
 * touches nothing of the job, and the caller cannot publish a new job
 * before every worker taking part in the current one has left it. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "rnrt.h"

enum { MAX_THREADS = 64, SPIN = 20000 };

typedef struct Worker {
    rn_pool *pool;
    int index; /* 1..nthreads-1; the caller is 0 */
    pthread_t thread;
} Worker;

struct rn_pool {
    int nthreads;
    Worker *workers;

    /* The current job; written only while no worker takes part in one. */
    void (*fn)(void *ctx, int i);
    void *ctx;
    int ntasks;
    atomic_int next;   /* next task index to hand out */
    atomic_int active; /* workers taking part that have not finished */

    /* generation << 8 | workers taking part (at most 63); bit 7 stops. */
    atomic_ullong state;

    pthread_mutex_t mu;
    pthread_cond_t wake;     /* workers wait here for a new generation */
    pthread_cond_t finished; /* the caller waits here for `active` == 0 */
    atomic_int sleepers;     /* workers waiting (or about to) on `wake` */
    atomic_int caller_waits; /* the caller waits (or is about to) on `finished` */
};

enum { STOP_BIT = 0x80, PART_MASK = 0x7f };

static void run_tasks(rn_pool *p) {
    int n = p->ntasks;
    for (;;) {
        int i = atomic_fetch_add(&p->next, 1);
        if (i >= n || i < 0) break; /* i < 0: the counter wrapped */
        p->fn(p->ctx, i);
    }
}

/* Spins a while for the state to move past `seen`, then sleeps. The
 * sleepers count and the state are both sequentially consistent, so either
 * the publisher sees our count and broadcasts, or we see its new state. */
static unsigned long long wait_state(rn_pool *p, unsigned long long seen) {
    for (int i = 0; i < SPIN; i++) {
        unsigned long long s = atomic_load(&p->state);
        if (s != seen) return s;
    }
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    unsigned long long s;
    while ((s = atomic_load(&p->state)) == seen)
        pthread_cond_wait(&p->wake, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return s;
}

static void *worker_main(void *arg) {
    Worker *w = arg;
    rn_pool *p = w->pool;
    unsigned long long seen = 0;
    for (;;) {
        unsigned long long s = wait_state(p, seen);
        seen = s;
        if (s & STOP_BIT) break;
        if (w->index > (int)(s & PART_MASK)) continue;
        run_tasks(p);
        if (atomic_fetch_sub(&p->active, 1) == 1 &&
            atomic_load(&p->caller_waits)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->finished);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

static void publish(rn_pool *p, unsigned long long low) {
    unsigned long long gen = (atomic_load(&p->state) >> 8) + 1;
    atomic_store(&p->state, gen << 8 | low);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
}

rn_pool *rn_pool_new(int nthreads) {
    if (nthreads < 1) nthreads = 1;
    if (nthreads > MAX_THREADS) nthreads = MAX_THREADS;
    rn_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->nthreads = 1;
    atomic_init(&p->next, 0);
    atomic_init(&p->active, 0);
    atomic_init(&p->state, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_waits, 0);
    if (nthreads == 1) return p;
    p->workers = calloc((size_t)nthreads, sizeof *p->workers);
    if (!p->workers || pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p->workers);
        free(p);
        return NULL;
    }
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->finished, NULL);
    /* A thread that cannot start only makes the pool smaller. */
    for (int i = 1; i < nthreads; i++) {
        Worker *w = &p->workers[i];
        w->pool = p;
        w->index = i;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) break;
        p->nthreads = i + 1;
    }
    return p;
}

void rn_pool_free(rn_pool *p) {
    if (!p) return;
    if (p->workers) {
        publish(p, STOP_BIT);
        for (int i = 1; i < p->nthreads; i++)
            pthread_join(p->workers[i].thread, NULL);
        pthread_cond_destroy(&p->wake);
        pthread_cond_destroy(&p->finished);
        pthread_mutex_destroy(&p->mu);
        free(p->workers);
    }
    free(p);
}

int rn_pool_threads(const rn_pool *p) { return p ? p->nthreads : 1; }

void rn_pool_run(rn_pool *p, int ntasks, void (*fn)(void *ctx, int i),
                 void *ctx) {
    if (ntasks <= 0) return;
    int helpers = p ? p->nthreads - 1 : 0;
    if (helpers > ntasks - 1) helpers = ntasks - 1;
    if (helpers <= 0) {
        for (int i = 0; i < ntasks; i++) fn(ctx, i);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    atomic_store(&p->next, 0);
    atomic_store(&p->active, helpers);
    publish(p, (unsigned long long)helpers);
    run_tasks(p);
    for (int i = 0; i < SPIN; i++)
        if (atomic_load(&p->active) == 0) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_waits, 1);
    while (atomic_load(&p->active) > 0)
        pthread_cond_wait(&p->finished, &p->mu);
    atomic_store(&p->caller_waits, 0);
    pthread_mutex_unlock(&p->mu);
}
