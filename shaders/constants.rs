// Constants shared by the WGSL generators and the launchers: shaders/gen_*.py read them from this
// file (each `const NAME: usize = VALUE;` line), and src/gpu/kernel.rs includes it as
// `crate::gpu::shader_consts`. Change a value here, then rerun the generator (its `--check`, run by
// .ci/run, fails until the committed .wgsl matches).

/// Channels a head the fused attention kernels of CPU adapters unroll (`attention_cpu.wgsl`; heads
/// with more channels take the composed attention).
pub const ATTENTION_MAX_D: usize = 8;
/// Output channels an invocation of `conv2d_direct3` (and `conv2d_direct3s2`) computes.
pub const DIRECT_ROWS: usize = 16;
/// Output channels an invocation of `conv2d_direct3_r4` computes: 3x3 weights with at most this
/// many output channels (a model's last layer, the input gradient of its first) take it, instead of
/// wasting 31 of 32 rows.
pub const FEW_ROWS: usize = 4;
/// Lanes of a subgroup that share their weight loads in `conv2d_direct_sg.wgsl` (each reads one of
/// this many consecutive weight vec4s, broadcast to all): the kernels need subgroups of at least
/// this many invocations (llvmpipe's are 8, or 16 at 512-bit vectors).
pub const SG_LANES: usize = 8;
/// Invocations in a workgroup of the direct convolutions (each computes eight output pixels, as two
/// vec4s).
pub const DIRECT_WORKGROUP: usize = 16;
/// Output channels an invocation of the Winograd product `wino_gemm` (`conv2d_winograd.wgsl`)
/// computes, and the output-channel chunk of one 64 KiB window of transformed weights.
pub const WINO_ROWS: usize = 16;
/// Input channels the Winograd product sums in one expression (each accumulator updated once per
/// this many multiply-adds).
pub const WINO_CPI: usize = 2;
/// Pairs of horizontally neighbouring 2x2 output tiles a `wino_gemm` invocation computes.
pub const WINO_PAIRS: usize = 2;
/// Invocations in a workgroup of the Winograd kernels.
pub const WINO_WORKGROUP: usize = 16;
/// Output channels an invocation of the Winograd F(4x4, 3x3) product `wino4_gemm` computes, and
/// the output-channel chunk of its weight windows.
pub const WINO4_ROWS: usize = 8;
/// Horizontally neighbouring 4x4 output tiles a `wino4_gemm` invocation computes.
pub const WINO4_TILES: usize = 2;
