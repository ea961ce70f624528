// Which lock guards which state, said in code rather than in comments:
// Clang's thread-safety attributes (-Wthread-safety), as macros that expand
// to nothing on other compilers (the project builds with GCC 12; the
// sanitizer and fuzz tree with clang).
//
//   std::mutex mu_;
//   int count_ GUARDED_BY(mu_);           // Read and written with mu_ held.
//   Widget* w_ PT_GUARDED_BY(mu_);        // The pointee is, the pointer not.
//   void Bump() REQUIRES(mu_);            // Caller holds mu_.
//   void Flush() EXCLUDES(mu_);           // Caller must not hold mu_: takes it.
//
// Clang checks these only against locks whose type is a capability, and
// libstdc++'s std::mutex is not one: with std::mutex they state the contract
// where tools and readers find it, and -Wthread-safety stays off. They are
// spelled so that a capability-annotated mutex can replace std::mutex, and
// the warning be turned on, without touching them.
#ifndef SLIPWAY_UTIL_THREAD_ANNOTATIONS_H_
#define SLIPWAY_UTIL_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define SLIPWAY_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SLIPWAY_THREAD_ANNOTATION(x)
#endif

// On a type: it is a lock (a "capability" named name, e.g. "mutex").
#define CAPABILITY(name) SLIPWAY_THREAD_ANNOTATION(capability(name))
// On an RAII type: constructing it acquires, destroying it releases.
#define SCOPED_CAPABILITY SLIPWAY_THREAD_ANNOTATION(scoped_lockable)

// On a member: reads need the lock (shared or exclusive), writes exclusive.
#define GUARDED_BY(x) SLIPWAY_THREAD_ANNOTATION(guarded_by(x))
// On a pointer member: the data it points to is guarded (not the pointer).
#define PT_GUARDED_BY(x) SLIPWAY_THREAD_ANNOTATION(pt_guarded_by(x))

// On a lock member: the order in which locks are taken.
#define ACQUIRED_BEFORE(...) SLIPWAY_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) SLIPWAY_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))

// On a function: the caller must hold the locks (exclusively, or shared).
#define REQUIRES(...) SLIPWAY_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) SLIPWAY_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))

// On a function: it takes, or releases, the locks and returns with them so.
#define ACQUIRE(...) SLIPWAY_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) SLIPWAY_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) SLIPWAY_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) SLIPWAY_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) SLIPWAY_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))

// On a function: the caller must not hold the locks (the function takes
// them; holding one already would deadlock).
#define EXCLUDES(...) SLIPWAY_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

// On a function: it returns a reference to the lock x.
#define RETURN_CAPABILITY(x) SLIPWAY_THREAD_ANNOTATION(lock_returned(x))

// On a function: the analysis does not look inside it (say why beside it).
#define NO_THREAD_SAFETY_ANALYSIS SLIPWAY_THREAD_ANNOTATION(no_thread_safety_analysis)

#endif  // SLIPWAY_UTIL_THREAD_ANNOTATIONS_H_
