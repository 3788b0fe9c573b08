// dschat-floor: the least a line server can do, as a yardstick for what dschat's servers cost.
//
//   dschat-floor echo|relay [PORT]     (PORT 0 or none: any free port, printed as "listening on …")
//
// One thread, one epoll instance, level-triggered, non-blocking sockets, 127.0.0.1 only. `echo` sends back
// whatever it reads. `relay` sends every complete line a client sends to all the other clients, as the
// bytes arrived: no framing beyond the last LF of a read, no names, no sanitizing, no limits, no slow-client
// handling (queues grow without bound). Everything queued for a client leaves in one write per turn of the
// loop, as in dschat's async server. The system calls it makes per message are the ones any server must make
// on this kernel, so its CPU time per delivery (measured with `dschat bench --server-pid`) is the floor
// under which no server built on readiness and copies can go here. Not installed; used by
// scripts/bench-compare.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

volatile std::sig_atomic_t stop_requested = 0;

struct Client {
  int fd = -1;
  std::string partial;  // relay: the bytes after the last LF of the last read
  std::string out;      // queued for this client
  std::size_t out_sent = 0;
  bool want_write = false;  // EPOLLOUT registered
  bool dirty = false;       // listed in the turn's write list
};

class Floor {
 public:
  Floor(bool relay, int listener) : relay_(relay), listener_(listener), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    add(listener_, EPOLLIN, nullptr);
  }

  int run() {
    std::array<epoll_event, 256> events{};
    while (stop_requested == 0) {
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 200);
      for (int i = 0; i < n; ++i) {
        auto* client = static_cast<Client*>(events[static_cast<std::size_t>(i)].data.ptr);
        const auto flags = events[static_cast<std::size_t>(i)].events;
        if (client == nullptr) {
          accept_all();
        } else if ((flags & EPOLLOUT) != 0 && client->want_write) {
          mark(*client);
        }
        if (client != nullptr && (flags & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) read_from(*client);
      }
      write_all();
      dropped_.clear();  // nothing of this turn points to them any more
    }
    return 0;
  }

 private:
  void add(int fd, std::uint32_t events, Client* client) const {
    epoll_event event{};
    event.events = events;
    event.data.ptr = client;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event);
  }

  void accept_all() {
    for (;;) {
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto client = std::make_unique<Client>();
      client->fd = fd;
      add(fd, EPOLLIN, client.get());
      clients_.emplace(fd, std::move(client));
    }
  }

  void read_from(Client& client) {
    if (client.fd < 0) return;
    const ssize_t n = recv(client.fd, buffer_.data(), buffer_.size(), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      drop(client);
      return;
    }
    if (n < 0) return;
    const std::string_view data(buffer_.data(), static_cast<std::size_t>(n));
    if (!relay_) {
      queue(client, data);
      return;
    }
    const std::size_t last_lf = data.rfind('\n');
    if (last_lf == std::string_view::npos) {
      client.partial.append(data);
      return;
    }
    std::string_view lines = data.substr(0, last_lf + 1);
    if (!client.partial.empty()) {
      client.partial.append(lines);  // completes the line the last read began
      lines = client.partial;
    }
    for (auto& [fd, other] : clients_)
      if (other.get() != &client && other->fd >= 0) queue(*other, lines);
    client.partial.assign(data.substr(last_lf + 1));  // lines is not used past this point
  }

  void queue(Client& client, std::string_view data) {
    client.out.append(data);
    mark(client);
  }

  void mark(Client& client) {
    if (client.dirty) return;
    client.dirty = true;
    dirty_.push_back(&client);
  }

  void write_all() {
    for (Client* client : dirty_) {
      client->dirty = false;
      if (client->fd < 0) continue;
      const std::size_t left = client->out.size() - client->out_sent;
      const ssize_t n =
          left == 0 ? 0 : send(client->fd, client->out.data() + client->out_sent, left, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) {
        drop(*client);
        continue;
      }
      if (n > 0) client->out_sent += static_cast<std::size_t>(n);
      const bool all_sent = client->out_sent == client->out.size();
      if (all_sent) {
        client->out.clear();
        client->out_sent = 0;
      }
      if (all_sent == client->want_write) {  // register EPOLLOUT while behind, drop it once caught up
        client->want_write = !all_sent;
        epoll_event event{};
        event.events = EPOLLIN | (client->want_write ? EPOLLOUT : 0U);
        event.data.ptr = client;
        epoll_ctl(epoll_, EPOLL_CTL_MOD, client->fd, &event);
      }
    }
    dirty_.clear();
  }

  void drop(Client& client) {
    // Out of the map at once, since accept may reuse the descriptor number this very turn; alive until
    // the turn ends, since its events and the write list may still point to it.
    const auto it = clients_.find(client.fd);
    close(client.fd);  // also removes it from the epoll set
    client.fd = -1;
    dropped_.push_back(std::move(it->second));
    clients_.erase(it);
  }

  bool relay_;
  int listener_;
  int epoll_;
  std::array<char, 64 * 1024> buffer_{};
  std::unordered_map<int, std::unique_ptr<Client>> clients_;
  std::vector<Client*> dirty_;
  std::vector<std::unique_ptr<Client>> dropped_;
};

int listen_on(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 4096) != 0) {
    std::perror("dschat-floor: listen");
    std::exit(1);
  }
  socklen_t size = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  std::printf("dschat-floor: listening on 127.0.0.1:%d\n", ntohs(address.sin_port));
  std::fflush(stdout);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view kind = argc > 1 ? argv[1] : "";
  if ((kind != "echo" && kind != "relay") || argc > 3) {
    std::fprintf(stderr, "usage: dschat-floor echo|relay [PORT]\n");
    return 2;
  }
  const int port = argc > 2 ? std::atoi(argv[2]) : 0;
  std::signal(SIGINT, [](int) { stop_requested = 1; });
  std::signal(SIGTERM, [](int) { stop_requested = 1; });
  Floor floor(kind == "relay", listen_on(port));
  return floor.run();
}
