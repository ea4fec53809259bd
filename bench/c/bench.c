/*
 * The C baseline of `npm run bench`: the benchmark workloads written directly against a PKCS#11
 * module, the way a careful C program would call it. The TypeScript drivers (bench/drivers/) run
 * the same workloads through pkcs11-ts, pkcs11js and graphene-pk11; bench/run.ts compiles this file
 * with `cc`, runs everything on one token and reports every figure as a ratio to this program's.
 *
 * Usage: bench <workload> [numbers...]   (module, token and PIN come from the environment:
 *        PKCS11_MODULE, PKCS11_TOKEN_LABEL, PKCS11_PIN)
 *   attr    READS              C_GetAttributeValue(CKA_LABEL) of a public session data object
 *   sign    SIGNS THREADS      ECDSA P-256 over 32 bytes, one session per thread
 *   objects COUNT              create COUNT data objects, then find them all and read each label
 *   aes     TOTAL CHUNK        AES-256-CBC-PAD encryption of TOTAL bytes in CHUNK-byte updates
 *   keygen  BITS               one RSA key pair generation
 *   leak    FIRST TOTAL        SHA256-HMAC signs; RSS after FIRST and after TOTAL
 *
 * Each workload prints one JSON object on stdout. Build: cc -O2 -pthread
 * -I/usr/include/p11-kit-1 bench.c -ldl (the header is Debian's libp11-kit-dev).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR p11;
static CK_SLOT_ID slot;

static void die(const char *what, CK_RV rv) {
  fprintf(stderr, "bench: %s failed: 0x%lx\n", what, (unsigned long)rv);
  exit(1);
}

#define CHECK(call)                          \
  do {                                       \
    CK_RV rv_ = (call);                      \
    if (rv_ != CKR_OK) die(#call, rv_);      \
  } while (0)

static const char *env(const char *name) {
  const char *v = getenv(name);
  if (!v || !*v) {
    fprintf(stderr, "bench: %s is not set\n", name);
    exit(2);
  }
  return v;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* CPU time of the whole process (every thread), user and system, in nanoseconds. */
static double cpu_ns(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e9 + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e3;
}

static long rss_bytes(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* Loads the module, initialises it with OS locking and finds the slot of PKCS11_TOKEN_LABEL. */
static void open_module(void) {
  void *lib = dlopen(env("PKCS11_MODULE"), RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "bench: %s\n", dlerror());
    exit(1);
  }
  CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList");
  if (!get) die("dlsym(C_GetFunctionList)", CKR_GENERAL_ERROR);
  CHECK(get(&p11));
  CK_C_INITIALIZE_ARGS args = {0};
  args.flags = CKF_OS_LOCKING_OK;
  CHECK(p11->C_Initialize(&args));

  const char *label = env("PKCS11_TOKEN_LABEL");
  CK_SLOT_ID slots[64];
  CK_ULONG count = 64;
  CHECK(p11->C_GetSlotList(CK_TRUE, slots, &count));
  for (CK_ULONG i = 0; i < count; i++) {
    CK_TOKEN_INFO info;
    if (p11->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
    size_t n = strlen(label);
    if (n <= sizeof info.label && memcmp(info.label, label, n) == 0 &&
        (n == sizeof info.label || info.label[n] == ' ')) {
      slot = slots[i];
      return;
    }
  }
  fprintf(stderr, "bench: no token labelled %s\n", label);
  exit(1);
}

static CK_SESSION_HANDLE open_session(void) {
  CK_SESSION_HANDLE s;
  CHECK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
  return s;
}

/* Opens the first session and logs the user in (which logs in every session of the process). */
static CK_SESSION_HANDLE login_session(void) {
  CK_SESSION_HANDLE s = open_session();
  const char *pin = env("PKCS11_PIN");
  CK_RV rv = p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) die("C_Login", rv);
  return s;
}

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static CK_OBJECT_CLASS data_class = CKO_DATA;
static const char bench_app[] = "pkcs11-bench find";
static const char warm_app[] = "pkcs11-bench warm-up"; /* workloads.ts WARM_UP_APPLICATION */
#define OBJECTS_WARM_UP 500                            /* workloads.ts OBJECTS_WARM_UP */
#define OBJECTS_WARM_UP_SEARCHES 10                    /* workloads.ts OBJECTS_WARM_UP_SEARCHES */

#define ATTR(t, v, l) {(t), (void *)(v), (l)}

/* The standard two-call read of a variable-length attribute: ask its length, then fetch it. */
static CK_ULONG read_label(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, char *buf, CK_ULONG cap) {
  CK_ATTRIBUTE a = ATTR(CKA_LABEL, NULL, 0);
  CHECK(p11->C_GetAttributeValue(s, o, &a, 1));
  if (a.ulValueLen > cap) die("label too long", CKR_BUFFER_TOO_SMALL);
  a.pValue = buf;
  CHECK(p11->C_GetAttributeValue(s, o, &a, 1));
  return a.ulValueLen;
}

static void bench_attr(long reads) {
  CK_SESSION_HANDLE s = login_session();
  const char label[] = "pkcs11-bench label";
  CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &data_class, sizeof data_class), ATTR(CKA_TOKEN, &no, 1),
                      ATTR(CKA_PRIVATE, &no, 1), ATTR(CKA_LABEL, label, sizeof label - 1)};
  CK_OBJECT_HANDLE o;
  CHECK(p11->C_CreateObject(s, t, 4, &o));
  char buf[256];
  for (long i = 0; i < 1000; i++) read_label(s, o, buf, sizeof buf);

  double cpu = cpu_ns(), start = now_ns();
  for (long i = 0; i < reads; i++) read_label(s, o, buf, sizeof buf);
  double two = now_ns() - start;
  cpu = cpu_ns() - cpu;

  /* For reference: one call with a buffer known to be large enough. */
  start = now_ns();
  for (long i = 0; i < reads; i++) {
    CK_ATTRIBUTE a = ATTR(CKA_LABEL, buf, sizeof buf);
    CHECK(p11->C_GetAttributeValue(s, o, &a, 1));
  }
  double one = now_ns() - start;
  printf("{\"workload\":\"attr\",\"reads\":%ld,\"ns\":%.0f,\"cpuNs\":%.0f,\"oneCallNs\":%.0f}\n", reads, two, cpu, one);
}

static CK_OBJECT_HANDLE ec_key;

static void make_ec_key(CK_SESSION_HANDLE s) {
  static const CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
  CK_ATTRIBUTE pub[] = {ATTR(CKA_TOKEN, &no, 1), ATTR(CKA_EC_PARAMS, p256, sizeof p256),
                        ATTR(CKA_VERIFY, &yes, 1)};
  CK_ATTRIBUTE priv[] = {ATTR(CKA_TOKEN, &no, 1), ATTR(CKA_PRIVATE, &yes, 1),
                         ATTR(CKA_SENSITIVE, &yes, 1), ATTR(CKA_SIGN, &yes, 1)};
  CK_OBJECT_HANDLE pubKey;
  CHECK(p11->C_GenerateKeyPair(s, &gen, pub, 3, priv, 4, &pubKey, &ec_key));
}

struct signer {
  long signs;
  double init_ns, sign_ns;
};

static pthread_barrier_t start_line;

/* One thread: its own session, `signs` times C_SignInit + C_Sign into a 64-byte buffer. */
static void *sign_thread(void *arg) {
  struct signer *job = arg;
  CK_SESSION_HANDLE s = open_session();
  CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
  CK_BYTE digest[32], sig[64];
  memset(digest, 0x5a, sizeof digest);
  pthread_barrier_wait(&start_line);
  for (long i = 0; i < job->signs; i++) {
    double t0 = now_ns();
    CHECK(p11->C_SignInit(s, &ecdsa, ec_key));
    double t1 = now_ns();
    CK_ULONG len = sizeof sig;
    CHECK(p11->C_Sign(s, digest, sizeof digest, sig, &len));
    job->init_ns += t1 - t0;
    job->sign_ns += now_ns() - t1;
  }
  pthread_barrier_wait(&start_line);
  p11->C_CloseSession(s);
  return NULL;
}

static void bench_sign(long signs, int threads) {
  CK_SESSION_HANDLE s = login_session();
  make_ec_key(s);
  struct signer jobs[64] = {{0}};
  pthread_t ids[64];
  if (threads < 1 || threads > 64) die("thread count", CKR_ARGUMENTS_BAD);
  pthread_barrier_init(&start_line, NULL, threads + 1);
  for (int i = 0; i < threads; i++) {
    jobs[i].signs = signs / threads + (i < signs % threads ? 1 : 0);
    pthread_create(&ids[i], NULL, sign_thread, &jobs[i]);
  }
  pthread_barrier_wait(&start_line);
  double cpu = cpu_ns(), start = now_ns();
  pthread_barrier_wait(&start_line);
  double elapsed = now_ns() - start;
  cpu = cpu_ns() - cpu;
  double init = 0, sign = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(ids[i], NULL);
    init += jobs[i].init_ns;
    sign += jobs[i].sign_ns;
  }
  printf("{\"workload\":\"sign\",\"signs\":%ld,\"sessions\":%d,\"ns\":%.0f,\"cpuNs\":%.0f,\"initNs\":%.0f,\"signNs\":%.0f}\n",
         signs, threads, elapsed, cpu, init, sign);
}

/* Creates `count` public session data objects of application `app`, labelled object-00000, ... */
static void create_objects(CK_SESSION_HANDLE s, const char *app, long count) {
  char label[32];
  for (long i = 0; i < count; i++) {
    int n = snprintf(label, sizeof label, "object-%05ld", i);
    CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &data_class, sizeof data_class), ATTR(CKA_TOKEN, &no, 1),
                        ATTR(CKA_PRIVATE, &no, 1), ATTR(CKA_APPLICATION, (void *)app, strlen(app)),
                        ATTR(CKA_LABEL, label, (CK_ULONG)n)};
    CK_OBJECT_HANDLE o;
    CHECK(p11->C_CreateObject(s, t, 5, &o));
  }
}

/* Finds the data objects of application `app` (256 handles per call) and reads every label;
   answers how many were found and adds the labels' bytes to *bytes. */
static CK_ULONG find_and_read(CK_SESSION_HANDLE s, const char *app, long expected, size_t *bytes) {
  CK_ATTRIBUTE query[] = {ATTR(CKA_CLASS, &data_class, sizeof data_class),
                          ATTR(CKA_APPLICATION, (void *)app, strlen(app))};
  CHECK(p11->C_FindObjectsInit(s, query, 2));
  CK_OBJECT_HANDLE *found = malloc(sizeof *found * (size_t)(expected + 256));
  CK_ULONG total = 0, got;
  do {
    CHECK(p11->C_FindObjects(s, found + total, 256, &got));
    total += got;
  } while (got == 256 && total <= (CK_ULONG)expected);
  CHECK(p11->C_FindObjectsFinal(s));
  char buf[256];
  for (CK_ULONG i = 0; i < total; i++) *bytes += read_label(s, found[i], buf, sizeof buf);
  free(found);
  return total;
}

static void bench_objects(long count) {
  CK_SESSION_HANDLE s = login_session();
  size_t bytes = 0;
  create_objects(s, warm_app, OBJECTS_WARM_UP);
  for (int i = 0; i < OBJECTS_WARM_UP_SEARCHES; i++)
    if (find_and_read(s, warm_app, OBJECTS_WARM_UP, &bytes) != OBJECTS_WARM_UP) die("warm-up count", CKR_GENERAL_ERROR);
  bytes = 0;
  double start = now_ns();
  create_objects(s, bench_app, count);
  double create = now_ns() - start;

  double cpu = cpu_ns();
  start = now_ns();
  CK_ULONG total = find_and_read(s, bench_app, count, &bytes);
  double find = now_ns() - start;
  cpu = cpu_ns() - cpu;
  if (total != (CK_ULONG)count) die("object count", CKR_GENERAL_ERROR);
  printf("{\"workload\":\"objects\",\"count\":%ld,\"createNs\":%.0f,\"findNs\":%.0f,\"findCpuNs\":%.0f,\"labelBytes\":%zu}\n",
         count, create, find, cpu, bytes);
}

static void bench_aes(long total, long chunk) {
  CK_SESSION_HANDLE s = login_session();
  CK_ULONG len = 32;
  CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
  CK_ATTRIBUTE t[] = {ATTR(CKA_TOKEN, &no, 1), ATTR(CKA_VALUE_LEN, &len, sizeof len),
                      ATTR(CKA_ENCRYPT, &yes, 1)};
  CK_OBJECT_HANDLE key;
  CHECK(p11->C_GenerateKey(s, &gen, t, 3, &key));
  CK_BYTE iv[16];
  memset(iv, 7, sizeof iv);
  CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv, sizeof iv};
  CK_BYTE *in = malloc((size_t)chunk), *out = malloc((size_t)chunk + 16);
  for (long i = 0; i < chunk; i++) in[i] = (CK_BYTE)(i * 31 + 7);
  size_t produced = 0;
  double cpu = cpu_ns(), start = now_ns();
  CHECK(p11->C_EncryptInit(s, &cbc, key));
  for (long done = 0; done < total; done += chunk) {
    CK_ULONG outLen = (CK_ULONG)chunk + 16;
    CHECK(p11->C_EncryptUpdate(s, in, (CK_ULONG)chunk, out, &outLen));
    produced += outLen;
  }
  CK_ULONG outLen = (CK_ULONG)chunk + 16;
  CHECK(p11->C_EncryptFinal(s, out, &outLen));
  produced += outLen;
  double elapsed = now_ns() - start;
  cpu = cpu_ns() - cpu;
  free(in);
  free(out);
  printf("{\"workload\":\"aes\",\"bytes\":%ld,\"chunk\":%ld,\"ns\":%.0f,\"cpuNs\":%.0f,\"outBytes\":%zu}\n", total, chunk,
         elapsed, cpu, produced);
}

static void bench_keygen(long bits) {
  CK_SESSION_HANDLE s = login_session();
  CK_ULONG modulusBits = (CK_ULONG)bits;
  static const CK_BYTE f4[] = {1, 0, 1};
  CK_MECHANISM gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
  CK_ATTRIBUTE pub[] = {ATTR(CKA_TOKEN, &no, 1), ATTR(CKA_MODULUS_BITS, &modulusBits, sizeof modulusBits),
                        ATTR(CKA_PUBLIC_EXPONENT, f4, sizeof f4), ATTR(CKA_VERIFY, &yes, 1)};
  CK_ATTRIBUTE priv[] = {ATTR(CKA_TOKEN, &no, 1), ATTR(CKA_PRIVATE, &yes, 1), ATTR(CKA_SENSITIVE, &yes, 1),
                         ATTR(CKA_SIGN, &yes, 1)};
  CK_OBJECT_HANDLE a, b;
  double start = now_ns();
  CHECK(p11->C_GenerateKeyPair(s, &gen, pub, 4, priv, 4, &a, &b));
  printf("{\"workload\":\"keygen\",\"bits\":%ld,\"ns\":%.0f}\n", bits, now_ns() - start);
}

static void bench_leak(long first, long total) {
  CK_SESSION_HANDLE s = login_session();
  CK_ULONG len = 32;
  CK_MECHANISM gen = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0};
  CK_ATTRIBUTE t[] = {ATTR(CKA_TOKEN, &no, 1), ATTR(CKA_VALUE_LEN, &len, sizeof len), ATTR(CKA_SIGN, &yes, 1)};
  CK_OBJECT_HANDLE key;
  CHECK(p11->C_GenerateKey(s, &gen, t, 3, &key));
  CK_MECHANISM hmac = {CKM_SHA256_HMAC, NULL, 0};
  CK_BYTE data[32], mac[32];
  memset(data, 0x33, sizeof data);
  long rssFirst = 0;
  double start = now_ns();
  for (long i = 1; i <= total; i++) {
    CK_ULONG macLen = sizeof mac;
    CHECK(p11->C_SignInit(s, &hmac, key));
    CHECK(p11->C_Sign(s, data, sizeof data, mac, &macLen));
    if (i == first) rssFirst = rss_bytes();
  }
  printf("{\"workload\":\"leak\",\"first\":%ld,\"total\":%ld,\"rssFirst\":%ld,\"rssTotal\":%ld,\"ns\":%.0f}\n", first,
         total, rssFirst, rss_bytes(), now_ns() - start);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench attr|sign|objects|aes|keygen|leak [numbers...]\n");
    return 2;
  }
  long a = argc > 2 ? atol(argv[2]) : 0, b = argc > 3 ? atol(argv[3]) : 0;
  open_module();
  const char *w = argv[1];
  if (!strcmp(w, "attr")) bench_attr(a);
  else if (!strcmp(w, "sign")) bench_sign(a, (int)b);
  else if (!strcmp(w, "objects")) bench_objects(a);
  else if (!strcmp(w, "aes")) bench_aes(a, b);
  else if (!strcmp(w, "keygen")) bench_keygen(a);
  else if (!strcmp(w, "leak")) bench_leak(a, b);
  else {
    fprintf(stderr, "bench: unknown workload %s\n", w);
    return 2;
  }
  p11->C_Finalize(NULL);
  return 0;
}
