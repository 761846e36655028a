// A thread whose creation may fail without ending the process. The addon is
// built without exceptions, so std::thread's failure (EAGAIN under
// RLIMIT_NPROC or a cgroup's pids.max) would call std::terminate: here it is
// an error code the caller handles (fewer workers, or no native walk).
// POSIX threads in file_posix.cc, Windows threads in copy_win.cc.
#ifndef COWCOPY_THREAD_H_
#define COWCOPY_THREAD_H_

#include <functional>
#include <memory>

namespace cowcopy {

class Thread {
 public:
  Thread() = default;
  Thread(Thread&&) noexcept = default;
  Thread& operator=(Thread&&) noexcept = default;
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  ~Thread() { Join(); }  // joins a thread still running

  // Runs fn on a new thread: 0, or the errno the OS gave (EAGAIN).
  int Start(std::function<void()> fn);
  void Join();

  struct Impl;

 private:
  // Owned alone; a shared_ptr takes its deleter where Impl is complete, so
  // the members above need no definitions in each platform file.
  std::shared_ptr<Impl> impl_;
};

}  // namespace cowcopy

#endif  // COWCOPY_THREAD_H_
