#include "cli.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/relay_envelope.hpp"
#include "core/relay_url.hpp"
#include "core/room_admission.hpp"
#include "modes/bench/bench.hpp"
#include "modes/chat_client/chat_client.hpp"
#include "modes/client.hpp"
#include "modes/serve.hpp"
#include "modes/threads_demo.hpp"
#include "net/text_file.hpp"
#include "version.hpp"

namespace dschat {

namespace {

using Runner = std::function<ExitCode()>;

const std::map<std::string, ServeMode> kModes{
    {"once", ServeMode::once}, {"threaded", ServeMode::threaded}, {"async", ServeMode::async}};

std::vector<std::string> mode_names() {
  std::vector<std::string> names;
  for (const auto& [name, mode] : kModes)
    names.push_back(name);
  return names;
}

// Numeric flags are checked here, in words a user understands, before CLI11 converts them: NaN and
// infinities never pass a range check, nor a negative value into an unsigned flag.

/// A whole number of type T from text, all of it, or nothing.
template <class T>
std::optional<T> parse_whole(const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
  return value;
}

/// A finite number from text, all of it, or nothing ("nan", "inf", "1e400" are not numbers here).
std::optional<double> parse_finite(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front())) != 0) return std::nullopt;
  char* stop = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &stop);
  if (stop != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value)) return std::nullopt;
  return value;
}

/// Accepts a whole number from min to max; what names it ("a TCP port").
template <class T>
CLI::Validator whole(T min, T max, const std::string& what = "a whole number") {
  return CLI::Validator(
      [=](std::string& text) {
        const auto value = parse_whole<T>(text);
        if (value && *value >= min && *value <= max) return std::string();
        return fmt::format("expects {} from {} to {}, got '{}'", what, min, max, text);
      },
      "");
}

/// Accepts a finite number from min to max; what names it ("a number of seconds").
CLI::Validator finite(double min, double max, const std::string& what = "a number") {
  return CLI::Validator(
      [=](std::string& text) {
        const auto value = parse_finite(text);
        if (value && *value >= min && *value <= max) return std::string();
        return fmt::format("expects {} from {} to {}, got '{}'", what, min, max, text);
      },
      "");
}

/// Accepts a size such as 1024, 64KiB or 1MiB (K, M, G are powers of 1024) from min to max bytes, and
/// turns it into the number of bytes.
CLI::Validator bytes(std::size_t min, std::size_t max) {
  return CLI::Validator(
      [=](std::string& text) {
        std::size_t digits = 0;
        while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
          ++digits;
        std::string unit = text.substr(digits);
        std::transform(unit.begin(), unit.end(), unit.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        static const std::map<std::string, int> shifts{{"", 0},     {"b", 0},   {"k", 10},  {"kb", 10},
                                                       {"kib", 10}, {"m", 20},  {"mb", 20}, {"mib", 20},
                                                       {"g", 30},   {"gb", 30}, {"gib", 30}};
        const auto number = parse_whole<std::size_t>(text.substr(0, digits));
        const auto shift = shifts.find(unit);
        if (number && shift != shifts.end() && *number <= (max >> shift->second)) {
          const std::size_t value = *number << shift->second;
          if (value >= min) {
            text = std::to_string(value);
            return std::string();
          }
        }
        return fmt::format("expects a size from {} to {} bytes such as 64KiB or 1MiB, got '{}'", min, max,
                           text);
      },
      "");
}

/// "100", "100/s" or "0" (off) → lines per second.
double parse_rate(std::string text) {
  if (text.size() > 2 && text.ends_with("/s")) text.resize(text.size() - 2);
  const auto rate = parse_finite(text);
  if (!rate || *rate < 0 || *rate > 1e9) {
    throw CLI::ValidationError("--rate", "expects lines per second such as 100 or 100/s, 0 for no limit");
  }
  return *rate;
}

/// "100ms", "1s", "0.5s" or "0" (off) → milliseconds.
std::chrono::milliseconds parse_time(std::string text, const char* flag, const char* expected, double min_ms,
                                     double max_ms) {
  double scale = 0;  // no unit: only 0 means something
  if (text.ends_with("ms")) {
    scale = 1;
    text.resize(text.size() - 2);
  } else if (text.ends_with("s")) {
    scale = 1000;
    text.pop_back();
  }
  const auto value = parse_finite(text);
  const double ms = value ? *value * scale : -1;
  if (!value || (scale == 0 && *value != 0) || !(ms >= min_ms && ms <= max_ms)) {
    throw CLI::ValidationError(flag, expected);
  }
  return std::chrono::milliseconds(static_cast<long long>(ms + 0.5));
}

std::chrono::milliseconds parse_pause(const std::string& text) {
  return parse_time(text, "--message-pause", "expects a time such as 100ms or 1s (at most 60s), 0 for off", 0,
                    60000);
}

/// "200ms", "2s" or "1.5s" → milliseconds, from 50 ms to 60 s: --relay-heartbeat.
std::chrono::milliseconds parse_heartbeat(const std::string& text) {
  return parse_time(text, "--relay-heartbeat", "expects a time such as 200ms or 2s, from 50ms to 60s", 50,
                    60000);
}

/// The cluster flags as given; they become ServeOptions::relay once the mode is known to be async chat.
struct RelayFlags {
  std::string url;
  std::string node;
  std::chrono::milliseconds heartbeat{2000};
  std::size_t buffer = 1024 * 1024;
};

const std::vector<const char*> kRelayFlags{"--relay", "--node", "--relay-heartbeat", "--relay-buffer"};

/// Binds the flags of the cluster relay (docs/cluster.md).
/// mode is set for the async-server alias, whose help speaks of its own mode only.
void add_relay_flags(CLI::App& command, const std::shared_ptr<RelayFlags>& relay,
                     std::optional<ServeMode> mode) {
  command
      .add_option("--relay", relay->url,
                  mode ? "Chat: share the room with other servers through a NATS broker"
                       : "Async chat: share the room with other servers through a NATS broker (the threaded "
                         "server is local only)")
      ->type_name("nats://[USER:PASS@|TOKEN@]HOST:PORT/ROOM");
  command
      .add_option("--node", relay->node, "Async chat with --relay: this server's name in the room, unique")
      ->type_name("[a-z0-9-]{1,16}");
  command
      .add_option_function<std::string>(
          "--relay-heartbeat", [relay](const std::string& text) { relay->heartbeat = parse_heartbeat(text); },
          "With --relay: heartbeat period; a server silent for 3.5 of them is down")
      ->default_str("2s");
  command
      .add_option("--relay-buffer", relay->buffer,
                  "With --relay: bytes of events held for the broker while it is away (at most 10 s old)")
      ->transform(bytes(std::size_t{1024}, std::size_t{1} << 30))
      ->default_str("1MiB");
}

/// Fills options.relay from the flags once the mode is checked; a bad URL or node name is a usage error.
void apply_relay_flags(const CLI::App& command, const RelayFlags& flags, ServeOptions& options) {
  const auto given = [&](const char* flag) {
    const CLI::Option* option = command.get_option_no_throw(flag);
    return option != nullptr && option->count() > 0;
  };
  const auto refuse = [&](const std::string& why) {
    throw UsageError(fmt::format("{} (see dschat {} --help)", why, command.get_name()));
  };
  bool any = false;
  for (const char* flag : kRelayFlags) {
    if (!given(flag)) continue;
    any = true;
    if (options.mode != ServeMode::async) {
      refuse(fmt::format("{} applies to --mode async only: the {} server is local only", flag,
                         options.mode == ServeMode::once ? "once" : "threaded"));
    }
    if (service_of(options) != Service::chat)
      refuse(fmt::format("{} applies to the chat service only", flag));
  }
  if (!any) return;
  if (!given("--relay")) refuse("--node, --relay-heartbeat and --relay-buffer need --relay");
  if (!given("--node")) refuse("--relay needs --node NAME");
  std::string error;
  auto url = parse_relay_url(flags.url, &error);
  if (!url) refuse(fmt::format("--relay: bad URL '{}': {}", flags.url, error));
  if (!is_valid_node_name(flags.node)) {
    refuse(fmt::format("--node: bad name '{}': 1-16 of a-z 0-9 -", flags.node));
  }
  options.relay = RelayOptions{std::move(*url), flags.node, flags.heartbeat, flags.buffer};
}

/// Binds the flags every server shares; mode is set for aliases such as echo-once, whose help shows only
/// their own mode's defaults.
void add_serve_flags(CLI::App& command, const std::shared_ptr<ServeOptions>& options,
                     std::optional<ServeMode> mode) {
  if (!mode) {
    command
        .add_option_function<std::string>(
            "--mode", [options](const std::string& name) { options->mode = kModes.at(name); },
            "How clients are handled")
        ->check(CLI::IsMember(mode_names()))
        ->default_str("once");
  }
  command.add_option("--host", options->host, "Address to listen on (0.0.0.0 or :: for every interface)")
      ->capture_default_str();
  command.add_option("--port", options->port, "TCP port, 0 picks a free one")
      ->check(whole(0, 65535, "a TCP port"))
      ->default_str(mode ? std::to_string(default_port(*mode)) : "8080 (once, threaded) / 8888 (async)");
  command.add_option("--max-line", options->max_line, "Longest accepted line in bytes, without its ending")
      ->check(whole(std::size_t{1}, std::size_t{16} << 20, "a number of bytes"))
      ->capture_default_str();
  command.add_flag("-v,--verbose", options->verbose, "Also log every line")->capture_default_str();
  command
      .add_option_function<std::string>(
          "--message-pause",
          [options](const std::string& text) { options->message_pause = parse_pause(text); },
          "Echo: bytes without LF followed by this long a silence are a message (0 = wait for LF)")
      ->default_str("100ms");
}

/// Binds the flags of the servers that run until signalled (threaded, async): service and protection.
void add_service_flags(CLI::App& command, const std::shared_ptr<ServeOptions>& options,
                       std::optional<ServeMode> mode) {
  command
      .add_option_function<std::string>(
          "--service",
          [options](const std::string& name) {
            options->service = name == "chat" ? Service::chat : Service::echo;
          },
          "What the server does with each line")
      ->check(CLI::IsMember({"echo", "chat"}))
      ->default_str(!mode                       ? "echo (once, threaded) / chat (async)"
                    : *mode == ServeMode::async ? "chat"
                                                : "echo");
  command.add_flag("--raw", options->raw, "Chat: relay lines unchanged, no names, notices or commands");
  command
      .add_option("--max-queue", options->max_queue,
                  "Unsent bytes per client before it is cut off as too slow")
      ->transform(bytes(std::size_t{1024}, std::size_t{1} << 30))
      ->default_str("1MiB");
  command
      .add_option_function<std::string>(
          "--rate", [options](const std::string& text) { options->rate = parse_rate(text); },
          "Lines per second a client may send before the server stops reading it (0 = off)")
      ->default_str("100/s (chat) / 0 (echo)");
  command.add_option("--burst", options->burst, "Lines a client may send at once before --rate applies")
      ->check(finite(1, 1e9, "a number of lines"))
      ->capture_default_str();
  command
      .add_option_function<std::size_t>(
          "--rate-bytes", [options](std::size_t value) { options->rate_bytes = value; },
          "Bytes per second a client may send, LFs included, before the server stops reading it (0 = off)")
      ->transform(bytes(std::size_t{0}, std::size_t{1} << 30))
      ->default_str("8KiB (chat) / 0 (echo)");
  command
      .add_option("--burst-bytes", options->burst_bytes,
                  "Bytes a client may send at once before --rate-bytes applies")
      ->transform(bytes(std::size_t{1}, std::size_t{1} << 30))
      ->default_str("64KiB");
  command
      .add_option("--idle-timeout", options->idle_timeout,
                  "Seconds a client may send nothing before it is closed (0 = never)")
      ->check(finite(0, 1e7, "a number of seconds"))
      ->default_str("0");
  command
      .add_option(
          "--big-room", options->big_room,
          "Chat: above this many members, joins and leaves are told in a summary every 10 s (0 = never)")
      ->check(whole(std::size_t{0}, std::size_t{1000000}, "a number of members"))
      ->capture_default_str();
  command
      .add_option("--max-clients", options->max_clients,
                  "Connections served at once; the next gets '! server full'")
      ->check(whole(std::size_t{1}, std::size_t{1000000}, "a number of connections"))
      ->capture_default_str();
  command
      .add_option(
          "--web-port", options->web_port,
          "Async chat: also serve the chat page and its WebSocket on this port (0 picks a free one; https "
          "and wss with --tls)")
      ->check(whole(0, 65535, "a TCP port"));
  command.add_option(
      "--web-origin", options->web_origins,
      "Async chat: an origin allowed to open the WebSocket besides the page's own (repeatable)");
  command
      .add_option_function<std::string>(
          "--web-ping",
          [options](const std::string& text) {
            options->web_ping = parse_time(
                text, "--web-ping", "expects a time such as 30s or 500ms (100ms to 3600s)", 100, 3600000);
          },
          "Async chat: ping each browser this often; one that has not answered by the next ping is closed")
      ->default_str("30s");
}

const std::vector<const char*> kTlsFlags{"--tls", "--tls-cert", "--tls-key", "--handshake-timeout"};

/// Binds the flags of the async server's TLS (README, TLS).
void add_tls_server_flags(CLI::App& command, const std::shared_ptr<ServeOptions>& options) {
  command.add_flag(
      "--tls", options->tls,
      "Async: speak TLS on the chat port (and https on --web-port), with an ephemeral self-signed "
      "certificate unless --tls-cert is given; its fingerprint is printed after 'listening on'");
  command
      .add_option("--tls-cert", options->tls_cert,
                  "Async: TLS certificate file (PEM, the certificate then its chain); implies --tls")
      ->type_name("FILE");
  command.add_option("--tls-key", options->tls_key, "Async: TLS private key file (PEM, not encrypted)")
      ->type_name("FILE");
  command
      .add_option_function<double>(
          "--handshake-timeout",
          [options](double seconds) {
            options->handshake_timeout =
                std::chrono::milliseconds(static_cast<long long>(seconds * 1000 + 0.5));
          },
          "Async with TLS: seconds a client has to complete its TLS handshake")
      ->check(finite(0.1, 3600, "a number of seconds"))
      ->default_str("10");
}

/// The access-control flags as given; they become ServeOptions::access once the mode is known to be async,
/// so that a flag refused for the mode is told before any file is read.
struct AccessFlags {
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  std::vector<std::string> allow_files;
  std::vector<std::string> deny_files;
  std::string password_file;
};

const std::vector<const char*> kAccessFlags{"--allow",           "--deny",       "--allow-file",
                                            "--deny-file",       "--max-per-ip", "--password-file",
                                            "--password-timeout"};

/// The environment variable that may hold the room password, for the server and for `dschat chat`.
constexpr const char* kPasswordVariable = "DSCHAT_PASSWORD";

/// Binds the flags of the async server's access control (docs/protocol.md, limits).
void add_access_flags(CLI::App& command, const std::shared_ptr<ServeOptions>& options,
                      const std::shared_ptr<AccessFlags>& access) {
  const auto list = [&](const char* flag, std::vector<std::string>& values, const char* type,
                        const char* help) {
    command.add_option(flag, values, help)
        ->type_name(type)
        ->default_str("")  // not "[]"
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
  };
  list("--allow", access->allow, "LIST",
       "Async: only these addresses may connect (CIDR blocks, comma-separated, repeatable); allow wins over "
       "--deny");
  list("--deny", access->deny, "LIST",
       "Async: these addresses are closed at accept, before any byte (CIDR blocks, comma-separated, "
       "repeatable)");
  list("--allow-file", access->allow_files, "FILE",
       "Async: --allow entries from a file, one a line, # comments");
  list("--deny-file", access->deny_files, "FILE",
       "Async: --deny entries from a file, one a line, # comments");
  command
      .add_option("--max-per-ip", options->max_per_ip,
                  "Async: connections open at once from one address, chat and web together; the next gets "
                  "'! too many connections from your address' (0 = no limit)")
      ->check(whole(std::size_t{0}, std::size_t{1000000}, "a number of connections"))
      ->capture_default_str();
  command
      .add_option("--password-file", access->password_file,
                  "Async chat: the room password is the first line of FILE (or set DSCHAT_PASSWORD; never "
                  "on the command line); a client is no member until it sends /pass PASSWORD")
      ->type_name("FILE");
  command
      .add_option("--password-timeout", options->password_timeout,
                  "Async chat: seconds a client has to send the right /pass before it is closed")
      ->check(finite(0.1, 1e6, "a number of seconds"))
      ->default_str("20");
}

/// The password in the first line of the file at path, without its line ending and the blanks around it;
/// an unreadable file, or one with no password there, is a failure (exit 1) naming the file.
std::string read_password_file(const std::string& path, std::string_view flag) {
  const std::string text = read_text_file(path, flag);
  std::string_view line = std::string_view(text).substr(0, text.find('\n'));
  if (line.ends_with('\r')) line.remove_suffix(1);
  line = trim_password(line);
  if (line.empty()) throw Error(fmt::format("{} {}: no password on its first line", flag, path));
  return std::string(line);
}

/// The password from --password-file, or else from DSCHAT_PASSWORD; empty when neither is given.
std::string password_from(const std::string& file, std::string_view flag) {
  if (!file.empty()) return read_password_file(file, flag);
  const char* value = std::getenv(kPasswordVariable);
  if (value == nullptr) return {};
  const std::string_view password = trim_password(value);
  if (password.empty()) throw Error(fmt::format("{} is set but holds no password", kPasswordVariable));
  return std::string(password);
}

/// Sets the room password of an async chat server. DSCHAT_PASSWORD is read by the servers that can use it
/// only: any other is told on stderr that it ignores it (--password-file there is a usage error).
void apply_password(const AccessFlags& flags, ServeOptions& options) {
  if (options.mode == ServeMode::async && service_of(options) == Service::chat) {
    options.password = password_from(flags.password_file, "--password-file");
    if (options.password.empty() && options.password_timeout != ServeOptions{}.password_timeout) {
      throw UsageError("--password-timeout needs a password: --password-file FILE or DSCHAT_PASSWORD");
    }
  } else if (std::getenv(kPasswordVariable) != nullptr) {
    fmt::print(stderr, "dschat: warning: {} ignored: only the async chat server has a room password\n",
               kPasswordVariable);
  }
}

/// Fills policy from the access flags: a bad entry in a flag is a usage error (exit 2), a file that cannot
/// be read or holds a bad line a failure (exit 1).
void apply_access_flags(const AccessFlags& flags, AccessPolicy& policy) {
  for (const auto& list : flags.allow)
    policy.allow.add_list(list, "--allow");
  for (const auto& list : flags.deny)
    policy.deny.add_list(list, "--deny");
  const auto add_files = [](const std::vector<std::string>& paths, const char* flag, AccessList& to) {
    for (const auto& path : paths) {
      const std::string text = read_text_file(path, flag);
      try {
        to.add_file_text(text, fmt::format("{} {}", flag, path));
      } catch (const UsageError& e) {
        throw Error(e.what());  // the command line was right: the file is wrong
      }
    }
  };
  add_files(flags.allow_files, "--allow-file", policy.allow);
  add_files(flags.deny_files, "--deny-file", policy.deny);
}

/// Refuses the flags that mean nothing for the chosen mode and service, as a usage error.
void check_serve_flags(const CLI::App& command, const ServeOptions& options) {
  const auto given = [&](const char* flag) {
    const CLI::Option* option = command.get_option_no_throw(flag);  // echo-once has no --raw
    return option != nullptr && option->count() > 0;
  };
  const auto refuse = [&](const std::string& why) {
    throw UsageError(fmt::format("{} (see dschat {} --help)", why, command.get_name()));
  };
  if (options.mode == ServeMode::once) {
    for (const char* flag : {"--raw", "--max-queue", "--rate", "--burst", "--rate-bytes", "--burst-bytes",
                             "--max-clients", "--idle-timeout", "--big-room"}) {
      if (given(flag)) refuse(fmt::format("{} means nothing for --mode once: it serves echo only", flag));
    }
  }
  if (options.mode != ServeMode::async) {
    for (const char* flag : kAccessFlags) {
      if (given(flag)) {
        refuse(fmt::format("{} means nothing for --mode {}: access control is in the async server only", flag,
                           options.mode == ServeMode::once ? "once" : "threaded"));
      }
    }
  }
  for (const char* flag : kTlsFlags) {
    if (given(flag) && options.mode != ServeMode::async) {
      refuse(fmt::format("{} means nothing for --mode {}: TLS is in the async server only", flag,
                         options.mode == ServeMode::once ? "once" : "threaded"));
    }
  }
  if (given("--tls-cert") != given("--tls-key")) refuse("--tls-cert and --tls-key go together");
  if (given("--handshake-timeout") && !given("--tls") && !given("--tls-cert")) {
    refuse("--handshake-timeout needs --tls or --tls-cert");
  }
  const Service service = service_of(options);
  if (given("--raw") && service != Service::chat) refuse("--raw applies to the chat service only");
  if (given("--big-room") && service != Service::chat) refuse("--big-room applies to the chat service only");
  for (const char* flag : {"--web-port", "--web-origin", "--web-ping"}) {
    if (!given(flag)) continue;
    if (options.mode != ServeMode::async) refuse(fmt::format("{} applies to --mode async only", flag));
    if (service != Service::chat) refuse(fmt::format("{} applies to the chat service only", flag));
  }
  for (const char* flag : {"--web-origin", "--web-ping"}) {
    if (given(flag) && !given("--web-port")) refuse(fmt::format("{} needs --web-port", flag));
  }
  for (const char* flag : {"--password-file", "--password-timeout"}) {
    if (given(flag) && service != Service::chat)
      refuse(fmt::format("{} applies to the chat service only", flag));
  }
}

/// A subcommand that is `serve` with its mode fixed, such as echo-once.
struct ServeAlias {
  const char* name;
  const char* description;
  ServeMode mode;
};

void add_serve_alias(CLI::App& app, Runner& run, const std::shared_ptr<ServeOptions>& options,
                     const std::shared_ptr<AccessFlags>& access, const std::shared_ptr<RelayFlags>& relay,
                     const ServeAlias& alias) {
  auto* command = app.add_subcommand(alias.name, alias.description);
  command->group("Aliases");
  add_serve_flags(*command, options, alias.mode);
  // once serves one client and exits: the service and protection flags mean nothing there.
  if (alias.mode != ServeMode::once) add_service_flags(*command, options, alias.mode);
  if (alias.mode == ServeMode::async) {
    add_access_flags(*command, options, access);
    add_tls_server_flags(*command, options);
    add_relay_flags(*command, relay, alias.mode);
  }
  command->callback([&run, options, access, relay, command, mode = alias.mode] {
    options->mode = mode;
    check_serve_flags(*command, *options);
    apply_relay_flags(*command, *relay, *options);
    if (!options->tls_cert.empty()) options->tls = true;
    apply_access_flags(*access, options->access);
    apply_password(*access, *options);
    run = [options] { return run_serve(*options); };
  });
}

void add_serve(CLI::App& app, Runner& run) {
  auto options = std::make_shared<ServeOptions>();
  auto access = std::make_shared<AccessFlags>();
  auto relay = std::make_shared<RelayFlags>();
  auto* serve = app.add_subcommand("serve", "Run a server (echo-once is serve --mode once)");
  add_serve_flags(*serve, options, std::nullopt);
  add_service_flags(*serve, options, std::nullopt);
  add_access_flags(*serve, options, access);
  add_tls_server_flags(*serve, options);
  add_relay_flags(*serve, relay, std::nullopt);
  serve->callback([&run, options, access, relay, serve] {
    check_serve_flags(*serve, *options);
    apply_relay_flags(*serve, *relay, *options);
    if (!options->tls_cert.empty()) options->tls = true;
    apply_access_flags(*access, options->access);
    apply_password(*access, *options);
    run = [options] { return run_serve(*options); };
  });

  add_serve_alias(
      app, run, options, access, relay,
      {"echo-once", "Alias of serve --mode once: echo one client's first line, exit", ServeMode::once});
  add_serve_alias(
      app, run, options, access, relay,
      {"threaded-server", "Alias of serve --mode threaded: one thread per client, echo by default",
       ServeMode::threaded});
  add_serve_alias(app, run, options, access, relay,
                  {"async-server", "Alias of serve --mode async: event loop with coroutines, chat by default",
                   ServeMode::async});
}

/// Binds --tls, --tls-ca, --tls-fingerprint, --tls-insecure of the clients (README, TLS).
void add_tls_client_flags(CLI::App& command, TlsClientFlags& flags) {
  command.add_flag("--tls", flags.tls,
                   "Speak TLS, verifying the server's certificate with the system CAs and its host name");
  command.add_option("--tls-ca", flags.ca_file, "Verify the server with this CA file (PEM); implies --tls")
      ->type_name("FILE");
  command
      .add_option("--tls-fingerprint", flags.fingerprint,
                  "Accept only the server certificate with this SHA-256 fingerprint (as dschat serve --tls "
                  "prints it); implies --tls")
      ->type_name("SHA256:HEX");
  command.add_flag("--tls-insecure", flags.insecure,
                   "Speak TLS without verifying the server at all (says so on stderr); implies --tls");
}

void add_client(CLI::App& app, Runner& run) {
  auto options = std::make_shared<ClientOptions>();
  auto* client =
      app.add_subcommand("client", "Send lines (from the arguments or standard input), print replies");
  client->add_option("--host", options->host, "Server address")->capture_default_str();
  client->add_option("--port", options->port, "Server port")
      ->check(whole(1, 65535, "a TCP port"))
      ->capture_default_str();
  client->add_option("--timeout", options->timeout, "Seconds to wait for each reply (0 = forever)")
      ->check(finite(0, 1e6, "a number of seconds"))
      ->capture_default_str();
  add_tls_client_flags(*client, options->tls);
  client->add_option("text", options->words, "Send these words as one line, print the reply and exit");
  client->callback([&run, options] { run = [options] { return run_client(*options); }; });
}

void add_chat(CLI::App& app, Runner& run) {
  auto options = std::make_shared<ChatOptions>();
  auto* chat = app.add_subcommand("chat", "Chat client: type lines, see everyone else's as they arrive");
  chat->alias("chat-client");
  chat->add_option("--host", options->host, "Server address")->capture_default_str();
  chat->add_option("--port", options->port, "Server port")
      ->check(whole(1, 65535, "a TCP port"))
      ->capture_default_str();
  chat->add_flag("--timestamps", options->timestamps, "Prefix incoming lines with the local time [HH:MM:SS]");
  add_tls_client_flags(*chat, options->tls);
  auto password_file = std::make_shared<std::string>();
  chat->add_option("--password-file", *password_file,
                   "Send /pass with the first line of FILE as the room password on connecting (or set "
                   "DSCHAT_PASSWORD)")
      ->type_name("FILE");
  chat->callback([&run, options, password_file] {
    options->password = password_from(*password_file, "--password-file");
    run = [options] { return run_chat_client(*options); };
  });
}

void add_threads_demo(CLI::App& app, Runner& run) {
  auto options = std::make_shared<ThreadsDemoOptions>();
  auto* demo = app.add_subcommand("threads-demo", "Threads greet, sleep a random time, say goodbye");
  demo->add_option("--threads", options->threads, "How many threads")
      ->check(whole(1U, 1000U, "a number of threads"))
      ->capture_default_str();
  demo->add_option("--max-sleep", options->max_sleep, "Longest sleep in seconds")
      ->check(finite(0, 3600, "a number of seconds"))
      ->capture_default_str();
  demo->add_option("--seed", options->seed, "Seed for reproducible sleep times")
      ->check(whole(std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max()))
      ->default_str("random");
  demo->callback([&run, options] { run = [options] { return run_threads_demo(*options); }; });
}

void add_bench(CLI::App& app, Runner& run) {
  auto options = std::make_shared<BenchOptions>();
  auto* bench =
      app.add_subcommand("bench", "Load generator for any line server: throughput, latency, memory");
  static const std::map<std::string, BenchScenario> scenarios{
      {"broadcast", BenchScenario::broadcast}, {"echo", BenchScenario::echo}, {"idle", BenchScenario::idle}};
  bench
      ->add_option_function<std::string>(
          "scenario", [options](const std::string& name) { options->scenario = scenarios.at(name); },
          "broadcast (each line to every other client), echo (round trips), idle (hold connections)")
      ->required()
      ->check(CLI::IsMember({"broadcast", "echo", "idle"}));
  static const std::map<std::string, BenchProto> protos{
      {"line", BenchProto::line}, {"nats", BenchProto::nats}, {"redis", BenchProto::redis}};
  bench
      ->add_option_function<std::string>(
          "--proto", [options](const std::string& name) { options->proto = protos.at(name); },
          "What the clients speak: line (dschat, any line server), nats (a NATS broker: one subject), redis "
          "(Redis pub/sub: one channel)")
      ->check(CLI::IsMember({"line", "nats", "redis"}))
      ->default_str("line");
  bench->add_option("--host", options->host, "Server address")->capture_default_str();
  bench->add_option("--port", options->port, "Server port (or --connect)")
      ->check(whole(1, 65535, "a TCP port"))
      ->default_str("");
  auto connect = std::make_shared<std::string>();
  bench->add_option("--connect", *connect,
                    "Several servers instead of --host/--port: HOST:PORT,HOST:PORT,... (clients spread round "
                    "robin; broadcast reports same- and cross-server latency apart)");
  bench->add_option("--clients", options->clients, "Connections")
      ->check(whole(std::size_t{1}, std::size_t{1000000}, "a number of connections"))
      ->capture_default_str();
  bench->add_option("--stuck", options->stuck, "More clients that connect but never read (slow consumers)")
      ->check(whole(std::size_t{0}, std::size_t{100000}, "a number of connections"))
      ->capture_default_str();
  bench->add_option("--senders", options->senders, "Clients that send (broadcast, echo)")
      ->check(whole(std::size_t{1}, std::size_t{1000000}, "a number of clients"))
      ->default_str("all");
  bench
      ->add_option("--rate", options->rate,
                   "Messages per second offered in total, 0 = flat out within --window")
      ->check(finite(0, 1e9, "a number of messages per second"))
      ->capture_default_str();
  bench->add_option("--window", options->window, "Flat out: messages in flight per sender")
      ->check(whole(std::size_t{1}, std::size_t{1000000}, "a number of messages"))
      ->default_str("32 (broadcast) / 1 (echo)");
  bench
      ->add_option("--duration", options->duration,
                   "Seconds measured (idle: seconds the connections are held)")
      ->check(finite(0, 86400, "a number of seconds"))
      ->capture_default_str();
  bench->add_option("--warmup", options->warmup, "Seconds of load before measuring")
      ->check(finite(0, 3600, "a number of seconds"))
      ->capture_default_str();
  bench->add_option("--drain", options->drain, "Seconds to wait for late deliveries after sending stops")
      ->check(finite(0, 3600, "a number of seconds"))
      ->capture_default_str();
  bench
      ->add_option("--payload", options->payload,
                   "Bytes per line without its LF (at least the ~30-byte token)")
      ->check(whole(std::size_t{1}, std::size_t{16} << 20, "a number of bytes"))
      ->capture_default_str();
  bench
      ->add_option("--server-pid", options->server_pids,
                   "Also report this server process's CPU and memory over the measured window (repeatable: "
                   "each server of a cluster, its broker)")
      ->check(whole(1, std::numeric_limits<int>::max(), "a process id"))
      ->take_all()
      ->allow_extra_args(false);
  bench->add_option("--json", options->json, "Also write the figures as JSON to this file");
  bench
      ->add_option("--connect-rate", options->connect_rate,
                   "New connections per second, 0 = as fast as possible")
      ->check(finite(0, 1e7, "a number of connections per second"))
      ->capture_default_str();
  bench->add_flag(
      "--ws", options->ws,
      "Clients speak WebSocket to a web port (serve --mode async --web-port): GET /ws, one line a "
      "text message; not with --tls or --proto nats|redis");
  add_tls_client_flags(*bench, options->tls);
  bench->callback([&run, options, bench, connect] {
    const bool has_connect = bench->count("--connect") > 0;
    if (has_connect && (bench->count("--port") > 0 || bench->count("--host") > 0)) {
      throw UsageError(
          "--connect replaces --host and --port: give one or the other (see dschat bench --help)");
    }
    if (!has_connect && bench->count("--port") == 0) {
      throw UsageError("--port is required (see dschat bench --help)");
    }
    if (has_connect) options->servers = bench::parse_server_list(*connect);
    if (options->scenario == BenchScenario::idle) {
      // idle opens connections and holds them: it sends nothing, so the load flags mean nothing there.
      for (const char* flag :
           {"--rate", "--senders", "--window", "--payload", "--stuck", "--warmup", "--drain"}) {
        if (bench->count(flag) > 0) {
          throw UsageError(
              fmt::format("{} means nothing for bench idle: it only opens and holds connections (see dschat "
                          "bench --help)",
                          flag));
        }
      }
    }
    run = [options] { return run_bench(*options); };
  });
}

/// Edit distance, for "did you mean" on a mistyped subcommand.
std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(const CLI::App& app, const std::string& word) {
  std::string best;
  std::size_t best_distance = 3;  // beyond two edits a suggestion is more confusing than helpful
  for (const auto* command : app.get_subcommands({})) {
    const std::size_t d = distance(word, command->get_name());
    if (d < best_distance) {
      best_distance = d;
      best = command->get_name();
    }
  }
  return best.empty() ? std::string() : fmt::format(" — did you mean '{}'?", best);
}

std::string version_text() {
  const std::string revision = DSCHAT_GIT_REVISION;
  return revision.empty() || revision == DSCHAT_VERSION
             ? fmt::format("dschat {}", DSCHAT_VERSION)
             : fmt::format("dschat {} ({})", DSCHAT_VERSION, revision);
}

}  // namespace

ExitCode run_cli(int argc, char** argv) {
  CLI::App app("dschat — TCP line chat: iterative, threaded and async servers, clients and a load generator",
               "dschat");
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  // A flag given twice takes its last value, as in most command-line tools.
  app.option_defaults()->always_capture_default()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  Runner run;
  add_serve(app, run);
  add_client(app, run);
  add_chat(app, run);
  add_threads_demo(app, run);
  add_bench(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return static_cast<ExitCode>(app.exit(e));
  } catch (const CLI::CallForAllHelp& e) {
    return static_cast<ExitCode>(app.exit(e));
  } catch (const CLI::CallForVersion& e) {
    return static_cast<ExitCode>(app.exit(e));
  } catch (const CLI::ParseError& e) {
    const auto extras = app.remaining();
    if (app.get_subcommands().empty() && !extras.empty()) {
      throw UsageError(fmt::format("unknown command '{}'{} (see dschat --help)", extras.front(),
                                   did_you_mean(app, extras.front())));
    }
    std::string where = "dschat";
    for (const auto* command : app.get_subcommands())
      where += " " + command->get_name();
    // CLI11 says "--port: expects a TCP port…"; a sentence reads better without the colon.
    std::string what = e.what();
    if (what.starts_with("--") && what.find(": expects ") != std::string::npos) {
      what.replace(what.find(": expects "), 2, " ");
    }
    throw UsageError(fmt::format("{} (see {} --help)", what, where));
  }
  return run();
}

}  // namespace dschat
