/* The native surface: the Server class, and the parser entry points the
 * tests and the parser micro-benchmark use.  JS validates arguments. */
#include <napi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vector>

#include "addon.h"
#include "framing.h"
#include "parser.h"
#include "server.h"

namespace salvo {

namespace {

ParserImpl impl_arg(const Napi::CallbackInfo& info, size_t i, ParserImpl def) {
  if (info.Length() <= i || !info[i].IsString()) return def;
  std::string s = info[i].As<Napi::String>();
  return s == "scalar" ? ParserImpl::kScalar : ParserImpl::kSse42;
}

/* parseRequest(buf, impl) -> { result, method, target, major, minor, headers } */
Napi::Value ParseRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
  ParserImpl impl = impl_arg(info, 1, env.GetInstanceData<AddonData>()->impl);
  if (impl == ParserImpl::kSse42 && !cpu_has_sse42()) impl = ParserImpl::kScalar;
  /* Copy into an exact-size heap block so that an over-read is an ASan
   * report rather than a silent read of the Buffer pool's next bytes. */
  std::vector<char> copy(reinterpret_cast<char*>(buf.Data()),
                         reinterpret_cast<char*>(buf.Data()) + buf.ByteLength());
  RequestHead head;
  HeaderField fields[64];
  size_t n = 64;
  int r = parse_request(impl, copy.data(), copy.size(), &head, fields, &n);
  Napi::Object o = Napi::Object::New(env);
  o.Set("result", r);
  if (r > 0) {
    o.Set("method", Napi::String::New(env, head.method, head.method_len));
    o.Set("target", Napi::String::New(env, head.target, head.target_len));
    o.Set("major", head.major_version);
    o.Set("minor", head.minor_version);
    Napi::Array hs = Napi::Array::New(env, n);
    for (size_t i = 0; i < n; i++) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, Napi::String::New(env, fields[i].name, fields[i].name_len));
      pair.Set(1u, Napi::String::New(env, fields[i].value, fields[i].value_len));
      hs.Set(static_cast<uint32_t>(i), pair);
    }
    o.Set("headers", hs);
  }
  return o;
}

/* benchParse(buf, impl, iterations) -> total nanoseconds */
Napi::Value BenchParse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
  ParserImpl impl = impl_arg(info, 1, env.GetInstanceData<AddonData>()->impl);
  if (impl == ParserImpl::kSse42 && !cpu_has_sse42()) impl = ParserImpl::kScalar;
  int64_t iters = info[2].As<Napi::Number>().Int64Value();
  const char* p = reinterpret_cast<const char*>(buf.Data());
  size_t len = buf.ByteLength();
  timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int64_t i = 0; i < iters; i++) {
    RequestHead head;
    HeaderField fields[64];
    size_t n = 64;
    int r = parse_request(impl, p, len, &head, fields, &n);
    if (r <= 0) {
      Napi::Error::New(env, "benchParse: the request does not parse").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    asm volatile("" : : "r"(fields) : "memory");  // keep the parse
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  return Napi::Number::New(env, ns);
}

/* frameMessages(buf, impl, limits?) -> { messages, status, rest }: runs the
 * connection's framing loop (next_message) over a copy of buf, as the
 * differential and conformance tests need.  status: 0 when the input ended
 * (complete or incomplete), else the HTTP status the connection would send. */
Napi::Value FrameMessages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
  ParserImpl impl = impl_arg(info, 1, env.GetInstanceData<AddonData>()->impl);
  if (impl == ParserImpl::kSse42 && !cpu_has_sse42()) impl = ParserImpl::kScalar;
  Limits limits;
  if (info.Length() > 2 && info[2].IsObject()) {
    Napi::Object o = info[2].As<Napi::Object>();
    if (o.Get("maxHeaderBytes").IsNumber()) limits.max_header_bytes = o.Get("maxHeaderBytes").As<Napi::Number>().Uint32Value();
    if (o.Get("maxHeaders").IsNumber()) limits.max_headers = o.Get("maxHeaders").As<Napi::Number>().Uint32Value();
    if (o.Get("maxBody").IsNumber()) limits.max_body = o.Get("maxBody").As<Napi::Number>().Uint32Value();
  }
  std::vector<char> copy(reinterpret_cast<char*>(buf.Data()),
                         reinterpret_cast<char*>(buf.Data()) + buf.ByteLength());
  std::vector<HeaderField> fields(limits.max_headers + 1);
  Napi::Array msgs = Napi::Array::New(env);
  size_t pos = 0;
  int status = 0;
  while (pos < copy.size()) {
    Message m;
    int r = next_message(impl, copy.data() + pos, copy.size() - pos, limits, fields.data(), &m);
    if (r == kParseIncomplete) break;
    if (r < 0) {
      status = -r;
      break;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("method", Napi::String::New(env, m.head.method, m.head.method_len));
    o.Set("target", Napi::String::New(env, m.head.target, m.head.target_len));
    o.Set("minor", m.head.minor_version);
    o.Set("headLen", static_cast<double>(m.head_len));
    o.Set("consumed", static_cast<double>(m.consumed));
    o.Set("keepAlive", m.framing.keep_alive);
    o.Set("expectContinue", m.framing.expect_continue);
    Napi::Array hs = Napi::Array::New(env, m.num_headers);
    for (size_t i = 0; i < m.num_headers; i++) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, Napi::String::New(env, fields[i].name, fields[i].name_len));
      pair.Set(1u, Napi::String::New(env, fields[i].value, fields[i].value_len));
      hs.Set(static_cast<uint32_t>(i), pair);
    }
    o.Set("headers", hs);
    o.Set("body", Napi::Buffer<char>::Copy(env, copy.data() + pos + m.head_len, m.body_len));
    msgs.Set(msgs.Length(), o);
    pos += m.consumed;
    if (!m.framing.keep_alive) break;  // the connection reads nothing after it
  }
  Napi::Object res = Napi::Object::New(env);
  res.Set("messages", msgs);
  res.Set("status", status);
  res.Set("rest", static_cast<double>(copy.size() - pos));
  return res;
}

Napi::Value CpuHasSse42(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), cpu_has_sse42());
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  const char* force = getenv("SALVO_PARSER");
  bool scalar = force && strcmp(force, "scalar") == 0;
  data->impl = (!scalar && cpu_has_sse42()) ? ParserImpl::kSse42 : ParserImpl::kScalar;
  Napi::Function ctor = Server::Init(env);
  env.SetInstanceData(data);  // deleted by node-addon-api when the environment ends
  exports.Set("Server", ctor);
  exports.Set("parseRequest", Napi::Function::New(env, ParseRequest));
  exports.Set("benchParse", Napi::Function::New(env, BenchParse));
  exports.Set("frameMessages", Napi::Function::New(env, FrameMessages));
  exports.Set("cpuHasSse42", Napi::Function::New(env, CpuHasSse42));
  exports.Set("parser", Napi::String::New(env, data->impl == ParserImpl::kSse42 ? "sse42" : "scalar"));
  return exports;
}

}  // namespace salvo

static Napi::Object InitSalvo(Napi::Env env, Napi::Object exports) {
  return salvo::Init(env, exports);
}

NODE_API_MODULE(salvo, InitSalvo)
