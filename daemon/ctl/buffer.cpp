// carehubctl buffer: backing up, restoring and re-keying the buffer encrypted at rest (issue 18,
// docs/operations.md "Backing up and restoring the buffer" and "The buffer key"). The sqlite3 shell cannot
// read the buffer: a backup is made by carehubd, which holds the key; restore and rekey work on the files
// with carehubd stopped, and refuse while it answers on its control socket.
#include <iostream>

#include "daemon/ctl/ctl.hpp"
#include "store/buffer_backup.hpp"
#include "store/buffer_migration.hpp"

namespace carehub::ctl {
namespace {

struct BufferOptions {
  std::string name, file, key_file, new_key_file;
  std::string path = "/var/lib/carehub/buffer.db";
};

// Restore and rekey replace the file carehubd has open: never while it runs.
Result<void> daemon_stopped(const Context& ctx) {
  if (ctx.call("status")) {
    return make_error(Errc::invalid_argument, "carehubd is running (it answers on " + ctx.socket() +
                                                  "): systemctl stop carehubd first");
  }
  return {};
}

int backup(const Context& ctx, const BufferOptions& o) {
  nlohmann::json args = nlohmann::json::object();
  if (!o.name.empty()) args["name"] = o.name;
  auto r = ctx.call("buffer.backup", args);
  if (!r) return fail(r.error());
  std::cout << text((*r)["file"]) << " (" << text((*r)["bytes"]) << " bytes"
            << ((*r)["encrypted"] == true ? ", encrypted with the buffer key" : ", NOT encrypted") << ")\n";
  return 0;
}

int restore(const Context& ctx, const BufferOptions& o) {
  if (auto r = daemon_stopped(ctx); !r) return fail(r.error());
  std::optional<BufferKey> key;
  if (!o.key_file.empty()) {
    auto k = BufferKey::read(o.key_file, "");
    if (!k) return fail(make_error(Errc::invalid_argument, k.error().message));
    key = std::move(*k);
  }
  auto before = restore_buffer(o.path, o.file, key ? &*key : nullptr);
  if (!before) return fail(before.error());
  std::cout << "restored " << o.file << " as " << o.path;
  if (!before->empty()) std::cout << "; the previous buffer is " << *before;
  std::cout << "\nstart carehubd (systemctl start carehubd): it opens the buffer with its key, or exits 2\n";
  return 0;
}

int rekey(const Context& ctx, const BufferOptions& o) {
  if (auto r = daemon_stopped(ctx); !r) return fail(r.error());
  auto from = BufferKey::read(o.key_file, "");
  if (!from) return fail(make_error(Errc::invalid_argument, from.error().message));
  auto to = BufferKey::read(o.new_key_file, "");
  if (!to) return fail(make_error(Errc::invalid_argument, to.error().message));
  auto r = buffer_migration::reencrypt(o.path, *from, *to);
  if (!r) return fail(r.error());
  std::cout << o.path << (r->migrated ? " is now encrypted with the new key" : " already opens with the new key")
            << "; seal the new key as the credential buffer-key before starting carehubd\n";
  return 0;
}

}  // namespace

Runner add_buffer_commands(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<BufferOptions>();
  auto* buffer = app.add_subcommand("buffer", "back up, restore or re-key the encrypted buffer")->require_subcommand(1);
  auto* b = buffer->add_subcommand("backup", "a consistent encrypted copy, made by carehubd, in backups/ beside the buffer");
  b->add_option("--name", o->name, "file name of the copy (default buffer-<UTC time>.db)");
  auto* r = buffer->add_subcommand("restore", "put a backup in place of the buffer (carehubd stopped)");
  r->add_option("file", o->file, "the backup")->required();
  r->add_option("--buffer", o->path, "the buffer")->capture_default_str();
  r->add_option("--key-file", o->key_file, "check that the backup opens with this key (64 hex digits) first");
  auto* k = buffer->add_subcommand("rekey", "re-encrypt the buffer with a new key (carehubd stopped)");
  k->add_option("--buffer", o->path, "the buffer")->capture_default_str();
  k->add_option("--key-file", o->key_file, "the current key (64 hex digits)")->required();
  k->add_option("--new-key-file", o->new_key_file, "the new key (64 hex digits)")->required();
  return [=, &ctx]() -> int {
    if (!*buffer) return -1;
    if (*b) return backup(ctx, *o);
    if (*r) return restore(ctx, *o);
    if (*k) return rekey(ctx, *o);
    return -1;
  };
}

}  // namespace carehub::ctl
