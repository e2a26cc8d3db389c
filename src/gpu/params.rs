//! Typed kernel parameters: one `#[repr(C)]` plain-data struct per WGSL parameter struct (binding 0
//! of every kernel), passed to [`crate::Gpu::dispatch`] as is.
//!
//! Each struct declares the WGSL file and struct it mirrors ([`KernelParams`]), and a naga test
//! ([`check_layout`] over [`builtin_layouts`]) compares its size and every member's name, offset and
//! size with the WGSL declaration after includes are resolved, so a struct that drifts from its
//! shader fails a test rather than a picture.
//!
//! A host with its own kernel ([`crate::Gpu::register_shader`]) implements [`KernelParams`] for its
//! parameter struct the same way and may check it against its WGSL with [`check_layout`].

use std::mem::{offset_of, size_of};

/// A member of a parameter struct: its name, byte offset and byte size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The member's name (as in WGSL).
    pub name: &'static str,
    /// Byte offset in the struct.
    pub offset: usize,
    /// Byte size.
    pub size: usize,
}

/// The layout of a Rust parameter struct and the WGSL struct it feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The Rust type.
    pub rust: &'static str,
    /// The WGSL module (a name [`crate::gpu::shader_modules`] lists, or a registered one).
    pub file: &'static str,
    /// The WGSL struct's name in that module.
    pub wgsl: &'static str,
    /// The Rust struct's size in bytes.
    pub size: usize,
    /// Its members in order.
    pub members: Vec<Member>,
}

impl Layout {
    /// The layout of `T`.
    pub fn of<T: KernelParams>() -> Layout {
        Layout {
            rust: std::any::type_name::<T>(),
            file: T::WGSL.0,
            wgsl: T::WGSL.1,
            size: size_of::<T>(),
            members: T::members(),
        }
    }
}

/// A kernel parameter block: plain data laid out as the WGSL struct named by [`Self::WGSL`].
pub trait KernelParams: bytemuck::Pod {
    /// The WGSL module (e.g. `"conv2d.wgsl"`) and the name of the struct this type mirrors.
    const WGSL: (&'static str, &'static str);
    /// Every member in declaration order (made with `std::mem::offset_of!`).
    fn members() -> Vec<Member>;
}

/// Compares `layout` with the struct it names in the WGSL `source` (parsed by naga): total size, and
/// each member's name, offset and size. Returns every difference found.
pub fn check_layout(layout: &Layout, source: &str) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(source).map_err(|e| {
        format!(
            "{}: WGSL does not parse: {}",
            layout.file,
            e.emit_to_string(source)
        )
    })?;
    let ty = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(layout.wgsl))
        .ok_or_else(|| format!("{}: no struct {}", layout.file, layout.wgsl))?
        .1;
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        return Err(format!("{}: {} is not a struct", layout.file, layout.wgsl));
    };
    let mut errs = Vec::new();
    let whose = format!("{} (for {}::{})", layout.rust, layout.file, layout.wgsl);
    if *span as usize != layout.size {
        errs.push(format!("size: WGSL {span} bytes, Rust {}", layout.size));
    }
    if members.len() != layout.members.len() {
        errs.push(format!(
            "members: WGSL {}, Rust {}",
            members.len(),
            layout.members.len()
        ));
    }
    for (i, w) in members.iter().enumerate() {
        let name = w.name.as_deref().unwrap_or("?");
        let size = module.types[w.ty].inner.size(module.to_ctx()) as usize;
        match layout.members.get(i) {
            None => errs.push(format!("member {i} `{name}` missing in Rust")),
            Some(r) => {
                if r.name != name || r.offset != w.offset as usize || r.size != size {
                    errs.push(format!(
                        "member {i}: WGSL `{name}` at {} ({size} bytes), Rust `{}` at {} ({} bytes)",
                        w.offset, r.name, r.offset, r.size
                    ));
                }
            }
        }
    }
    for (i, r) in layout.members.iter().enumerate().skip(members.len()) {
        errs.push(format!("member {i} `{}` missing in WGSL", r.name));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!("{whose}: {}", errs.join("; ")))
    }
}

/// Declares parameter structs: `Name = "file.wgsl" WgslStruct { field: type, ... }`, each a
/// `#[repr(C)]` `Pod` struct with [`KernelParams`], all listed by [`builtin_layouts`].
macro_rules! kernel_params {
    ($(
        $(#[$m:meta])*
        $name:ident = $file:literal $wgsl:ident {
            $($(#[$fm:meta])* $field:ident: $ty:ty),* $(,)?
        }
    )*) => {
        $(
            $(#[$m])*
            #[doc = concat!("\n\nMirrors `struct ", stringify!($wgsl), "` of `shaders/", $file, "`.")]
            #[repr(C)]
            #[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
            pub struct $name {
                $(
                    $(#[$fm])*
                    #[doc = concat!("WGSL member `", stringify!($field), "`.")]
                    pub $field: $ty,
                )*
            }

            impl KernelParams for $name {
                const WGSL: (&'static str, &'static str) = ($file, stringify!($wgsl));
                fn members() -> Vec<Member> {
                    vec![$(Member {
                        name: stringify!($field),
                        offset: offset_of!($name, $field),
                        size: size_of::<$ty>(),
                    }),*]
                }
            }
        )*

        /// The layouts of every parameter struct of the crate's kernels (what the naga layout test
        /// checks).
        pub fn builtin_layouts() -> Vec<Layout> {
            vec![$(Layout::of::<$name>()),*]
        }
    };
}

kernel_params! {
    /// The fused attention kernels of CPU adapters.
    AttentionCpuParams = "attention_cpu.wgsl" P {
        bh: u32, d: u32, hw: u32, b0: u32, alpha: f32, _p0: u32, _p1: u32, _p2: u32,
    }
    /// Row dot products and ratio updates of conjugate gradients.
    CgParams = "cg.wgsl" P { rows: u32, len: u32, s: f32, _p0: u32 }
    /// The implicit-GEMM convolutions.
    Conv2dParams = "conv2d.wgsl" P {
        batch: u32, cin: u32, h: u32, w: u32,
        cout: u32, ho: u32, wo: u32, kh: u32,
        kw: u32, stride: u32, pad_t: u32, pad_l: u32,
        has_bias: u32, _p0: u32, _p1: u32, _p2: u32,
    }
    /// The direct convolutions of CPU adapters and their weight packing.
    Conv2dDirectParams = "conv2d_direct.wgsl" P {
        batch: u32, cin: u32, h: u32, w: u32,
        cout: u32, ho: u32, wo: u32, kh: u32,
        kw: u32, stride: u32, pad_t: u32, pad_l: u32,
        has_bias: u32, ci0: u32, ci_n: u32, co0: u32,
        ci_chunk: u32, co_chunk: u32, n_ci: u32, first: u32,
        total: u32, flip: u32, rows: u32, _p2: u32,
    }
    /// The Winograd F(2x2, 3x3) convolutions of CPU adapters and their weight transform.
    WinogradParams = "conv2d_winograd.wgsl" P {
        batch: u32, cin: u32, h: u32, w: u32,
        cout: u32, ho: u32, wo: u32, pad_t: u32,
        pad_l: u32, th: u32, tp: u32, has_bias: u32,
        ci0: u32, ci_n: u32, co0: u32, first: u32,
        ci_chunk: u32, n_ci: u32, total: u32, flip: u32,
    }
    /// The convolution gradients.
    Conv2dGradParams = "conv2d_grad.wgsl" P {
        batch: u32, cin: u32, h: u32, w: u32,
        cout: u32, ho: u32, wo: u32, kh: u32,
        kw: u32, stride: u32, pad_t: u32, pad_l: u32,
        _p0: u32, _p1: u32, _p2: u32, _p3: u32,
    }
    /// The fused sampler steps.
    DiffusionParams = "diffusion.wgsl" P {
        n: u32, seed_lo: u32, seed_hi: u32, step: u32, stream: u32, clip: u32,
        inv_sqrt_ab: f32, sqrt_1m_ab: f32, c_x0: f32, c_x: f32, c_eps: f32, sigma: f32,
        log_lo: f32, log_hi: f32,
    }
    /// The Gaussian stream.
    RandomParams = "random.wgsl" P {
        n: u32, seed_lo: u32, seed_hi: u32, step: u32, stream: u32, _p0: u32, _p1: u32, _p2: u32,
    }
    /// The elementwise kernels (and their vec4 forms in `elementwise_v4.wgsl`).
    ElementwiseParams = "elementwise.wgsl" P {
        n: u32, a: f32, b: f32, inner: u32, c1: u32, c2: u32, flag: u32, e: f32,
    }
    /// The elementwise gradients (and `split_channels_v4` of `elementwise_v4.wgsl`).
    ElementwiseGradParams = "elementwise_grad.wgsl" P {
        n: u32, a: f32, inner: u32, c1: u32, c2: u32, off: u32, flag: u32, rows: u32,
    }
    /// The FFT line passes, embedding, cropping and modulus.
    FftParams = "fft.wgsl" P { a: u32, b: u32, c: u32, d: u32, e: f32, f: f32, count: u32, _p: u32 }
    /// Group normalisation.
    GroupNormParams = "groupnorm.wgsl" P {
        c: u32, hw: u32, groups: u32, silu: u32, eps: f32, _p0: u32, _p1: u32, _p2: u32,
    }
    /// The vec4 group normalisation of CPU adapters and its backward.
    GroupNormCpuParams = "groupnorm_cpu.wgsl" P {
        c: u32, hw: u32, groups: u32, silu: u32, eps: f32, keep: u32, given: u32, _p: u32,
    }
    /// The matrix products.
    MatmulParams = "matmul.wgsl" P {
        m: u32, n: u32, k: u32, has_bias: u32,
        sab: u32, sam: u32, sak: u32, alpha: f32,
        sbb: u32, sbk: u32, sbn: u32, a_kfast: u32,
        b_kfast: u32, _p0: u32, _p1: u32, _p2: u32,
    }
    /// The group-norm and softmax gradients.
    NormGradParams = "norm_grad.wgsl" P {
        c: u32, hw: u32, groups: u32, silu: u32, eps: f32, batch: u32, len: u32, scale: f32,
    }
    /// Adam.
    OptimParams = "optim.wgsl" P {
        n: u32, pad0: u32, pad1: u32, pad2: u32,
        lr: f32, b1: f32, b2: f32, eps: f32, c1: f32, c2: f32, pad3: f32, pad4: f32,
    }
    /// Gathering particle rows and their weighted moments.
    ParticleRowsParams = "particle_rows.wgsl" P { rows: u32, len: u32, k: u32, _p: u32 }
    /// Systematic resampling.
    ParticlesParams = "particles.wgsl" P {
        k: u32, groups: u32, seed_lo: u32, seed_hi: u32, step: u32, force: u32, threshold: f32, _p: u32,
    }
    /// Row sums.
    ReduceParams = "reduce.wgsl" P { rows: u32, len: u32, code: u32, _p1: u32 }
    /// Projection onto the simplex.
    SimplexParams = "simplex.wgsl" P { n: u32, rows: u32, pad0: u32, pad1: u32 }
    /// Row softmax.
    SoftmaxParams = "softmax.wgsl" P { rows: u32, len: u32, scale: f32, _p0: u32 }
    /// The per-coordinate spectral steps.
    SpectralParams = "spectral.wgsl" P {
        n: u32, inner: u32, mode: u32, pad: u32, a: f32, sig: f32, sigma_y: f32, eta: f32, eta_b: f32,
    }
    /// Layer norm, GELU, the causal mask and the head permutations of transformer blocks.
    TransformerParams = "transformer.wgsl" P {
        n: u32, rows: u32, len: u32, mode: u32, eps: f32, t: u32, h: u32, d: u32,
    }
    /// Texture packing and unpacking.
    TextureParams = "texture.wgsl" P {
        w: u32, h: u32, row_words: u32, fmt: u32, channels: u32, offset: u32, swap: u32, linear: u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every parameter struct matches the WGSL struct it feeds (size, member names, offsets and
    /// sizes), in the module as compiled (includes resolved); every WGSL module with a uniform
    /// struct `P` has a Rust struct.
    #[test]
    fn every_params_struct_matches_its_wgsl() {
        let layouts = builtin_layouts();
        let mut errs = Vec::new();
        for l in &layouts {
            let src = super::super::kernel::shader_source(l.file)
                .unwrap_or_else(|| panic!("{}: no shader {}", l.rust, l.file));
            if let Err(e) = check_layout(l, &src) {
                errs.push(e);
            }
        }
        assert!(errs.is_empty(), "{}", errs.join("\n"));
        for (file, src) in super::super::kernel::SHADERS {
            if src.contains("var<uniform> p: P;") {
                assert!(
                    layouts.iter().any(|l| l.file == *file),
                    "{file} has no Rust parameter struct"
                );
            }
        }
        // elementwise_v4.wgsl reads the words of elementwise.wgsl's P (or elementwise_grad's) as
        // array<vec4<u32>, 2>
        assert!(
            super::super::kernel::shader_source("elementwise_v4.wgsl")
                .unwrap()
                .contains("var<uniform> p: array<vec4<u32>, 2>;")
        );
        assert_eq!(size_of::<ElementwiseParams>(), 32);
        assert_eq!(size_of::<ElementwiseGradParams>(), 32);
    }

    /// The checker fails: a struct with two members swapped, one missing, or one of the wrong size
    /// is reported as a mismatch.
    #[test]
    fn a_mismatched_struct_is_reported() {
        let src = |f| super::super::kernel::shader_source(f).unwrap();
        let e = check_layout(&Layout::of::<wrong::Swapped>(), &src("reduce.wgsl")).unwrap_err();
        assert!(
            e.contains("member 0: WGSL `rows`") && e.contains("member 1: WGSL `len`"),
            "{e}"
        );
        let e = check_layout(&Layout::of::<wrong::Missing>(), &src("cg.wgsl")).unwrap_err();
        assert!(
            e.contains("size: WGSL 16 bytes, Rust 12") && e.contains("`_p0` missing in Rust"),
            "{e}"
        );
        // a wrong member size: spectral's P read as if `mode` were a u64
        let mut l = Layout::of::<SpectralParams>();
        l.members[2].size = 8;
        let e = check_layout(&l, &src("spectral.wgsl")).unwrap_err();
        assert!(e.contains("member 2: WGSL `mode`"), "{e}");
        // and a struct the module does not have
        let mut l = Layout::of::<ReduceParams>();
        l.wgsl = "Q";
        assert!(
            check_layout(&l, &src("reduce.wgsl"))
                .unwrap_err()
                .contains("no struct Q")
        );
    }
}

/// Deliberately wrong parameter structs, declared the way the real ones are, for the test that the
/// checker reports them.
#[cfg(test)]
#[allow(dead_code)]
mod wrong {
    use super::*;

    kernel_params! {
        /// reduce.wgsl's P with `rows` and `len` swapped.
        Swapped = "reduce.wgsl" P { len: u32, rows: u32, code: u32, _p1: u32 }
        /// cg.wgsl's P without its padding member.
        Missing = "cg.wgsl" P { rows: u32, len: u32, s: f32 }
    }
}
