// Calibration probe for testing.reference: prints what the texture unit returns for
// cubemap face ties, out-of-range layer/cube indices, nearest/linear mip selection,
// gradient LODs, the linear filter's weight quantization (round or truncate to 1/256,
// ties) and unorm/snorm-to-float conversion. Build and run on a GPU machine:
//   nvcc -arch=sm_90 tools/probes/texture_unit_probe.cu -o /tmp/probe && /tmp/probe

#include <cstdio>
#include <cstring>
#include <cmath>
#include <cuda_runtime.h>
#define CK(x) do{cudaError_t e=(x);if(e){printf("ERR %s @%d\n",cudaGetErrorString(e),__LINE__);}}while(0)
typedef float4 F;
__global__ void K(int k,cudaTextureObject_t t,const F*d,float*o,int n){int i=threadIdx.x;if(i>=n)return;F a=d[i];float r=0;
switch(k){case 0:r=texCubemap<float>(t,a.x,a.y,a.z);break;case 1:r=texCubemapLayered<float>(t,a.x,a.y,a.z,(int)a.w);break;
case 2:r=tex2DLayered<float>(t,a.x,a.y,(int)a.w);break;case 3:r=tex1DLod<float>(t,a.x,a.y);break;
case 4:r=tex2DGrad<float>(t,0.5f,0.5f,make_float2(a.x,a.y),make_float2(a.z,a.w));break;case 5:r=tex1DLayered<float>(t,a.x,(int)a.w);break;}o[i]=r;}
F*dd;float*dO;
void go(const char*nm,int k,cudaTextureObject_t t,const F*h,int n){cudaMemcpy(dd,h,n*16,cudaMemcpyHostToDevice);K<<<1,64>>>(k,t,dd,dO,n);float o[64];CK(cudaMemcpy(o,dO,n*4,cudaMemcpyDeviceToHost));
for(int i=0;i<n;i++)printf("%s (%g,%g,%g,%g) -> %.9g\n",nm,h[i].x,h[i].y,h[i].z,h[i].w,o[i]);}
cudaTextureObject_t mk(cudaResourceDesc*r,int lin,int norm,int mlin,float mn,float mx){cudaTextureDesc td;memset(&td,0,sizeof td);
for(int i=0;i<3;i++)td.addressMode[i]=cudaAddressModeClamp;td.filterMode=lin?cudaFilterModeLinear:cudaFilterModePoint;td.readMode=cudaReadModeElementType;
td.normalizedCoords=norm;td.mipmapFilterMode=mlin?cudaFilterModeLinear:cudaFilterModePoint;td.minMipmapLevelClamp=mn;td.maxMipmapLevelClamp=mx;cudaTextureObject_t t;CK(cudaCreateTextureObject(&t,r,&td,0));return t;}
cudaArray_t arr3(int w,int h,int d,unsigned fl,float*src){cudaChannelFormatDesc c=cudaCreateChannelDesc<float>();cudaArray_t a;CK(cudaMalloc3DArray(&a,&c,make_cudaExtent(w,h,d),fl));
cudaMemcpy3DParms p;memset(&p,0,sizeof p);p.srcPtr=make_cudaPitchedPtr(src,w*4,w,h?h:1);p.dstArray=a;p.extent=make_cudaExtent(w,h?h:1,d?d:1);p.kind=cudaMemcpyHostToDevice;CK(cudaMemcpy3D(&p));return a;}
cudaResourceDesc ra(cudaArray_t a){cudaResourceDesc r;memset(&r,0,sizeof r);r.resType=cudaResourceTypeArray;r.res.array.array=a;return r;}

// Linear-filter weight quantization: texels [0, 1] of a 1D float texture, read at
// x = 0.5 + f (unnormalized), return the weight of texel 1 for fraction f. Printed as
// "weight f -> w*256"; round-to-nearest gives floor(256 f + 0.5), truncation floor(256 f).
__global__ void Kw(cudaTextureObject_t t, const float* f, float* o, int n) {
    int i = threadIdx.x + blockIdx.x * blockDim.x;
    if (i < n) o[i] = tex1D<float>(t, 0.5f + f[i]);
}
// Normalized-integer reads: every value of an 8-bit texture read as float.
template <typename T>
__global__ void Kn(cudaTextureObject_t t, float* o) {
    int i = threadIdx.x;
    o[i] = tex1Dfetch<float>(t, i);
}
template <typename T>
void norm8(const char* name) {
    T h[256];
    for (int i = 0; i < 256; i++) h[i] = (T)(i - (sizeof(T) == 1 && (T)-1 < 0 ? 128 : 0));
    T* d; float* o; CK(cudaMalloc(&d, 256)); CK(cudaMalloc(&o, 256 * 4));
    CK(cudaMemcpy(d, h, 256, cudaMemcpyHostToDevice));
    cudaResourceDesc r; memset(&r, 0, sizeof r); r.resType = cudaResourceTypeLinear;
    r.res.linear.devPtr = d; r.res.linear.desc = cudaCreateChannelDesc<T>(); r.res.linear.sizeInBytes = 256;
    cudaTextureDesc td; memset(&td, 0, sizeof td); td.readMode = cudaReadModeNormalizedFloat;
    cudaTextureObject_t t; CK(cudaCreateTextureObject(&t, &r, &td, 0));
    Kn<T><<<1, 256>>>(t, o); float out[256]; CK(cudaMemcpy(out, o, sizeof out, cudaMemcpyDeviceToHost));
    int exact = 0;
    for (int i = 0; i < 256; i++) {
        double v = (double)h[i];
        float want = (float)((sizeof(T) == 1 && (T)-1 < 0) ? fmax(v / 127.0, -1.0) : v / 255.0);
        if (out[i] == want) exact++; else printf("%s %d -> %.9g (v/max: %.9g)\n", name, (int)h[i], out[i], want);
    }
    printf("%s: %d of 256 equal to the correctly rounded float32 of v/max\n", name, exact);
    cudaDestroyTextureObject(t); cudaFree(d); cudaFree(o);
}
void weights() {
    float tx[2] = {0.f, 1.f};
    cudaResourceDesc r = ra(arr3(2, 0, 0, 0, tx));
    cudaTextureObject_t t = mk(&r, 1, 0, 0, 0, 0);
    const int n = 256 * 4;
    static float f[n];
    for (int k = 0; k < 256; k++) {  // each step: exactly k/256, a tie, just below and above it
        f[4 * k] = k / 256.f; f[4 * k + 1] = (k + 0.5f) / 256.f;
        f[4 * k + 2] = (k + 0.5f) / 256.f - 1e-5f; f[4 * k + 3] = (k + 0.5f) / 256.f + 1e-5f;
    }
    float *df, *dw; CK(cudaMalloc(&df, sizeof f)); CK(cudaMalloc(&dw, sizeof f));
    CK(cudaMemcpy(df, f, sizeof f, cudaMemcpyHostToDevice));
    Kw<<<(n + 255) / 256, 256>>>(t, df, dw, n);
    static float w[n]; CK(cudaMemcpy(w, dw, sizeof w, cudaMemcpyDeviceToHost));
    int rnd = 0, trunc = 0, tie_up = 0;
    for (int i = 0; i < n; i++) {
        double q = w[i] * 256.0, a = f[i] * 256.0;
        if (q == floor(a + 0.5)) rnd++;
        if (q == floor(a)) trunc++;
        if (i % 4 == 1 && q == floor(a) + 1) tie_up++;
        if (i < 16 || i % 97 == 0) printf("weight f=%.9g (256f=%.6f) -> 256w=%.6f\n", f[i], a, q);
    }
    printf("weights: %d of %d = round-to-nearest, %d = truncation; ties rounded up: %d of 256\n",
           rnd, n, trunc, tie_up);
    cudaDestroyTextureObject(t); cudaFree(df); cudaFree(dw);
}
int main(){cudaMalloc(&dd,64*16);cudaMalloc(&dO,64*4);
float cb[4*4*12];for(int c=0;c<12;c++)for(int j=0;j<4;j++)for(int i=0;i<4;i++)cb[i+4*(j+4*c)]=1000*(c/6)+100*(c%6)+i+4*j;
cudaResourceDesc rc=ra(arr3(4,4,6,cudaArrayCubemap,cb));
F dc[]={{1,1,0,0},{1,0,1,0},{0,1,1,0},{1,1,1,0},{-1,1,0,0},{1,-1,0,0},{-1,-1,-1,0},{0,-1,1,0},{0,1,-1,0},{-1,0,-1,0},{-1,0,1,0},{0,-1,-1,0},{1,-1,1,0},{-1,1,-1,0},
{1,.5,.25,0},{1,.99f,0,0},{.99f,1,0,0},{0,0,0,0},{1,1,.5f,0},{.5f,1,1,0},{-1,-1,0,0},{0,0,-1,0},{-0.f,0,0,0},{1,0.74f,0,0},{1,0.76f,0,0},{1,-0.999f,0.999f,0}};int nc=sizeof dc/16;
go("cubeN",0,mk(&rc,0,1,0,0,0),dc,nc);go("cubeU",0,mk(&rc,0,0,0,0,0),dc,nc);go("cubeL",0,mk(&rc,1,1,0,0,0),dc,nc);
cudaResourceDesc rcl=ra(arr3(4,4,12,cudaArrayCubemap|cudaArrayLayered,cb));F dl[]={{1,.1f,.1f,-1},{1,.1f,.1f,0},{1,.1f,.1f,1},{1,.1f,.1f,2},{1,.1f,.1f,7}};go("cubeLay",1,mk(&rcl,0,1,0,0,0),dl,5);
float ly[2*2*3];for(int l=0;l<3;l++)for(int k=0;k<4;k++)ly[k+4*l]=10*l+k;cudaResourceDesc rl=ra(arr3(2,2,3,cudaArrayLayered,ly));
F d2[]={{1.5,0.5,0,-100},{1.5,0.5,0,-1},{1.5,0.5,0,0},{1.5,0.5,0,1},{1.5,0.5,0,2},{1.5,0.5,0,3},{1.5,0.5,0,100},{1,1,0,5}};go("lay2",2,mk(&rl,0,0,0,0,0),d2,8);go("lay2L",2,mk(&rl,1,0,0,0,0),d2,8);
cudaResourceDesc r1=ra(arr3(4,0,3,cudaArrayLayered,ly));F d1[]={{2.5,0,0,-1},{2.5,0,0,1},{2.5,0,0,3}};go("lay1",5,mk(&r1,0,0,0,0,0),d1,3);
for(int D=1;D<=2;D++){cudaChannelFormatDesc c=cudaCreateChannelDesc<float>();cudaMipmappedArray_t mm;CK(cudaMallocMipmappedArray(&mm,&c,make_cudaExtent(16,D==2?16:0,0),5,0));
for(int l=0;l<5;l++){cudaArray_t a;CK(cudaGetMipmappedArrayLevel(&a,mm,l));int w=16>>l,h=D==2?w:1;static float b[256];for(int i=0;i<w*h;i++)b[i]=256*l;CK(cudaMemcpy2DToArray(a,0,0,b,w*4,w*4,h,cudaMemcpyHostToDevice));}
cudaResourceDesc r;memset(&r,0,sizeof r);r.resType=cudaResourceTypeMipmappedArray;r.res.mipmap.mipmap=mm;
if(D==1){F dm[]={{.5,0},{.5,.49f},{.5,.5f},{.5,.51f},{.5,1.5f},{.5,2.5f},{.5,-1},{.5,10},{.5,.25f},{.5,.1f},{.5,.3f},{.5,1/512.f},{.5,3/512.f},{.5,1/256.f+1e-4f},{.5,.999f},{.5,1.7f},{.5,0.002f},{.5,0.0019f},{.5,1.0f/1024}};int n=sizeof dm/16;
go("mipNN",3,mk(&r,0,1,0,0,4),dm,n);go("mipNL",3,mk(&r,0,1,1,0,4),dm,n);go("mipClL",3,mk(&r,0,1,1,1,2.5f),dm,n);go("mipClN",3,mk(&r,0,1,0,1,2.5f),dm,n);go("mipDef",3,mk(&r,0,1,0,0,0),dm,n);go("mipU",3,mk(&r,0,0,1,0,4),dm,n);}
else{float q=1/16.f;F dg[]={{0,0,0,0},{q,0,0,q},{2*q,0,0,0},{0,4*q,0,0},{2*q,2*q,0,0},{2*q,0,0,2*q},{2*q,0,0,8*q},{q,q,0,0},{3*q,0,0,0},{0,0,8*q,0},{16*q,0,0,0},{.5f*q,0,0,0}};go("grad",4,mk(&r,0,1,1,0,4),dg,sizeof dg/16);}}
weights();norm8<unsigned char>("unorm8");norm8<signed char>("snorm8");
return 0;}
