/* pool.c: a fixed pool of worker threads for the generated layers.
 *
 * rn_pool_run is called once per layer per inference, so a call must cost
 * microseconds. The caller publishes a job by storing a new state (a
 * generation number with an "open" bit); workers that finished the previous
 * job are still spinning on the state and start at once, the others sleep
 * on a condition variable and are woken only when some worker sleeps.
 * The caller works too.
 *
 * Each thread owns a contiguous share of the tasks and takes them from its
 * front; one that has run out takes from the back of another's share. A
 * thread thus runs the same part of every layer (the generated code maps
 * task t to rows t*n/k), so it mostly reads what it wrote itself: its own
 * cache, not the other core's. Stealing keeps a thread that the system
 * holds back from holding up the job.
 *
 * The caller returns as soon as every task is done: it does not wait for
 * workers that never woke up. To keep such a late worker away from the job
 * fields (which the next job overwrites), a worker announces itself in
 * `inside` and then re-reads the state; the caller closes the job and waits
 * for `inside` to drop to zero before it returns. Both sides use
 * sequentially consistent operations, so either the worker sees the job
 * closed and leaves, or the caller sees the worker inside and waits for it
 * (a few instructions, as no task is left to take). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "rnrt.h"


enum {
    MAX_THREADS = 64,
    SPIN_US = 1000,      /* busy polling before yielding, in microseconds */
    CLOCK_EVERY = 256,   /* polls between two looks at the clock */
    SPIN = 4000,         /* polls before yielding: threads outnumber cores */
    YIELDS = 64,         /* sched_yield polls before sleeping */
};

/* state = generation << 2 | STOP | OPEN */
enum { OPEN = 1, STOP = 2 };

/* A thread's tasks not yet taken, [lo, hi), as lo | hi << 32: its owner
 * takes lo, others take hi - 1. A cache line each. */
typedef struct Share {
    _Alignas(64) atomic_ullong range;
} Share;

/* What a worker thread is started with. */
typedef struct Worker {
    struct rn_pool *pool;
    int id; /* 1.. (0 is the caller) */
} Worker;

struct rn_pool {
    int nthreads;
    int spin_us; /* how long a wait polls: SPIN_US, or 0 when oversubscribed */
    pthread_t *threads;
    Worker *workers;

    /* The job: written only while it is closed and nobody is inside. */
    void (*fn)(void *ctx, int i, int worker);
    void *ctx;
    int ntasks;
    Share *shares;   /* one per thread */
    atomic_int done; /* tasks finished */

    atomic_ullong state;
    atomic_int inside; /* workers between announcing and leaving a job */

    pthread_mutex_t mu;
    pthread_cond_t wake;     /* workers wait here for a new state */
    pthread_cond_t finished; /* the caller waits here for done == ntasks */
    atomic_int sleepers;     /* workers waiting (or about to) on `wake` */
    atomic_int caller_waits; /* the caller waits (or is about to) on `finished` */
};

/* A wait: polls cheaply for SPIN_US, then gives the CPU away YIELDS
 * times (with more threads than cores, the thread we wait for may need
 * it), then backoff returns 0: time to block. The spin is long because a
 * worker that sleeps between two layers wakes late when other processes
 * are runnable: beside two niced busy processes on 2 cores, ResNet-34 at
 * 2 threads took 42-46 ms with 5 us of spinning, 26-29 ms with 200 us to
 * 3 ms. With more threads than cores, though, a spinning thread holds a
 * core that the thread it waits for may need: then SPIN polls only (as
 * libgomp spins 300,000 polls, but 100 when oversubscribed). */
typedef struct Backoff {
    int polls, yields, spin_us; /* spin_us 0: SPIN polls */
    struct timespec start;
} Backoff;

static long long us_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)(t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000;
}

static int backoff(Backoff *b) {
    if (b->yields == 0) { /* spinning */
        if (b->polls++ == 0 && b->spin_us) clock_gettime(CLOCK_MONOTONIC, &b->start);
        if (b->spin_us ? b->polls % CLOCK_EVERY != 0 || us_since(&b->start) < b->spin_us
                       : b->polls < SPIN)
            return 1;
    }
    if (++b->yields > YIELDS) return 0;
    sched_yield();
    return 1;
}

/* A task from share s, its front for the owner, else its back; -1 when
 * the share is empty. */
static int take(Share *s, int owner) {
    unsigned long long v = atomic_load(&s->range);
    for (;;) {
        unsigned long long lo = v & 0xffffffffu, hi = v >> 32;
        if (lo >= hi) return -1;
        unsigned long long nv = owner ? v + 1 : (hi - 1) << 32 | lo;
        if (atomic_compare_exchange_weak(&s->range, &v, nv))
            return (int)(owner ? lo : hi - 1);
    }
}

static void run_tasks(rn_pool *p, int worker) {
    int n = p->ntasks, mine = 0, nt = p->nthreads, i;
    for (int k = 0; k < nt; k++) { /* own share first, then the others' */
        Share *s = &p->shares[(worker + k) % nt];
        while ((i = take(s, k == 0)) >= 0) {
            p->fn(p->ctx, i, worker);
            mine++;
        }
    }
    if (mine && atomic_fetch_add(&p->done, mine) + mine == n &&
        atomic_load(&p->caller_waits)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->finished);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Waits for the state to move past `seen`. The sleepers count and the
 * state are sequentially consistent: either the publisher sees our count
 * and broadcasts under the mutex, or we see its new state. */
static unsigned long long wait_state(rn_pool *p, unsigned long long seen) {
    unsigned long long s;
    Backoff b = {0, 0, p->spin_us, {0, 0}};
    while (backoff(&b))
        if ((s = atomic_load(&p->state)) != seen) return s;
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    while ((s = atomic_load(&p->state)) == seen)
        pthread_cond_wait(&p->wake, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return s;
}

static void *worker_main(void *arg) {
    const Worker *w = arg;
    rn_pool *p = w->pool;
    unsigned long long seen = 0;
    for (;;) {
        unsigned long long s = wait_state(p, seen);
        seen = s;
        if (s & STOP) break;
        if (!(s & OPEN)) continue;
        atomic_fetch_add(&p->inside, 1);
        if (atomic_load(&p->state) == s) run_tasks(p, w->id);
        atomic_fetch_sub(&p->inside, 1);
    }
    return NULL;
}

static void set_state(rn_pool *p, unsigned long long s) {
    atomic_store(&p->state, s);
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
    atomic_init(&p->done, 0);
    atomic_init(&p->state, 0);
    atomic_init(&p->inside, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_waits, 0);
    if (nthreads == 1) return p;
    p->threads = calloc((size_t)nthreads, sizeof *p->threads);
    p->workers = calloc((size_t)nthreads, sizeof *p->workers);
    p->shares = aligned_alloc(64, (size_t)nthreads * sizeof *p->shares);
    if (!p->threads || !p->workers || !p->shares ||
        pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p->threads);
        free(p->workers);
        free(p->shares);
        free(p);
        return NULL;
    }
    for (int i = 0; i < nthreads; i++) atomic_init(&p->shares[i].range, 0);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->finished, NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN); /* before any worker reads it */
    p->spin_us = ncpu > 0 && nthreads > ncpu ? 0 : SPIN_US;
    /* A thread that cannot start only makes the pool smaller. */
    for (int i = 1; i < nthreads; i++) {
        p->workers[i].pool = p;
        p->workers[i].id = i;
        if (pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i]) != 0)
            break;
        p->nthreads = i + 1;
    }
    return p;
}

void rn_pool_free(rn_pool *p) {
    if (!p) return;
    if (p->threads) {
        set_state(p, STOP);
        for (int i = 1; i < p->nthreads; i++)
            pthread_join(p->threads[i], NULL);
        pthread_cond_destroy(&p->wake);
        pthread_cond_destroy(&p->finished);
        pthread_mutex_destroy(&p->mu);
        free(p->threads);
        free(p->workers);
        free(p->shares);
    }
    free(p);
}

int rn_pool_threads(const rn_pool *p) { return p ? p->nthreads : 1; }

void rn_pool_run(rn_pool *p, int ntasks,
                 void (*fn)(void *ctx, int i, int worker), void *ctx) {
    if (ntasks <= 0) return;
    if (!p || p->nthreads == 1 || ntasks == 1) {
        for (int i = 0; i < ntasks; i++) fn(ctx, i, 0);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    for (int w = 0, nt = p->nthreads; w < nt; w++) {
        unsigned long long lo = (unsigned long long)ntasks * w / nt;
        unsigned long long hi = (unsigned long long)ntasks * (w + 1) / nt;
        atomic_store(&p->shares[w].range, lo | hi << 32);
    }
    atomic_store(&p->done, 0);
    unsigned long long gen = (atomic_load(&p->state) >> 2) + 1;
    set_state(p, gen << 2 | OPEN);
    run_tasks(p, 0);

    /* Every task done (its writes visible through `done`)... */
    Backoff b = {0, 0, p->spin_us, {0, 0}};
    while (atomic_load(&p->done) < ntasks && backoff(&b)) {
    }
    if (atomic_load(&p->done) < ntasks) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_waits, 1);
        while (atomic_load(&p->done) < ntasks)
            pthread_cond_wait(&p->finished, &p->mu);
        atomic_store(&p->caller_waits, 0);
        pthread_mutex_unlock(&p->mu);
    }
    /* ...then close the job and let any worker still in it leave. */
    atomic_store(&p->state, gen << 2);
    for (int round = 0; atomic_load(&p->inside) > 0;)
        if (++round > SPIN) sched_yield();
}
