// Calibration probe for testing.reference: prints what the texture unit returns for
// cubemap face ties, out-of-range layer/cube indices, nearest/linear mip selection
// and gradient LODs. Build and run on a GPU machine:
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
cudaMemcpy3DParms p;memset(&p,0,sizeof p);p.srcPtr=make_cudaPitchedPtr(src,w*4,w,h?h:1);p.dstArray=a;p.extent=make_cudaExtent(w,h?h:1,d);p.kind=cudaMemcpyHostToDevice;CK(cudaMemcpy3D(&p));return a;}
cudaResourceDesc ra(cudaArray_t a){cudaResourceDesc r;memset(&r,0,sizeof r);r.resType=cudaResourceTypeArray;r.res.array.array=a;return r;}
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
return 0;}
