// flow: direction-free flow identity and the per-core FlowTable — the umbrella of the flow library.
//
// Each part has its own header, with its own thread-safety notes: flow_key.hpp (FlowKey, make_key),
// mix.hpp (mixing primitives), flow_hash.hpp (FlowHasher), mapped_memory.hpp (map_zeroed and friends),
// hash_index.hpp (HashIndex), flow_table.hpp (FlowTable, owned by one thread) and entry_queue.hpp
// (EntryQueue, owned by the same thread). Include a part directly
// where only it is needed.
#pragma once

#include "flow/entry_queue.hpp"
#include "flow/flow_hash.hpp"
#include "flow/flow_key.hpp"
#include "flow/flow_table.hpp"
#include "flow/hash_index.hpp"
#include "flow/mapped_memory.hpp"
#include "flow/mix.hpp"
