// Compile-only stand-ins for the few UnityEngine/UnityEditor APIs the package uses, with the
// signatures of Unity 2021.3. They let the test suite compile the Unity-only sources (pump,
// lifecycle hooks, link.xml processor, sample) with UNITY_* defines, and let UnityGlueTest drive the
// pump and the hooks the way Unity would (members named Simulate* exist only here). Whether the
// real Unity calls them as documented cannot be checked without Unity.
using System;

namespace AOT
{
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type type)
        {
        }
    }
}

namespace UnityEngine
{
    public class Object
    {
        public HideFlags hideFlags { get; set; }

        public static void DontDestroyOnLoad(Object target)
        {
        }
    }

    public class Component : Object
    {
        public GameObject gameObject
        {
            get { return null; }
        }
    }

    public class Behaviour : Component
    {
        public bool enabled { get; set; }
    }

    public class MonoBehaviour : Behaviour
    {
    }

    public sealed class GameObject : Object
    {
        public GameObject(string name)
        {
        }

        public T AddComponent<T>() where T : Component
        {
            var component = (T)Activator.CreateInstance(typeof(T), true);
            SimulatedComponents.Add(component);
            return component;
        }

        /// <summary>Every component added so far (test-only).</summary>
        public static readonly System.Collections.Generic.List<Component> SimulatedComponents =
            new System.Collections.Generic.List<Component>();
    }

    [Flags]
    public enum HideFlags
    {
        None = 0,
        HideInHierarchy = 1,
        HideInInspector = 2,
        DontSaveInEditor = 4,
        NotEditable = 8,
        DontSaveInBuild = 16,
        DontUnloadUnusedAsset = 32,
        DontSave = 52,
        HideAndDontSave = 61,
    }

    public enum NetworkReachability
    {
        NotReachable,
        ReachableViaCarrierDataNetwork,
        ReachableViaLocalAreaNetwork,
    }

    public static class Application
    {
        /// <summary>Where Unity keeps persistent data (test-only: a folder under the temp directory).</summary>
        public static string persistentDataPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(),
            "xo-unity-stub-data-" + System.Diagnostics.Process.GetCurrentProcess().Id);

        public static bool isPlaying
        {
            get { return SimulatedIsPlaying; }
        }

        /// <summary>What isPlaying answers (test-only).</summary>
        public static bool SimulatedIsPlaying = true;

        public static bool isMobilePlatform
        {
            get { return false; }
        }

        public static NetworkReachability internetReachability
        {
            get { return NetworkReachability.ReachableViaLocalAreaNetwork; }
        }

        public static event Action quitting;

        public static void OpenURL(string url)
        {
        }

        /// <summary>Raises quitting, as Unity does when the player quits (test-only).</summary>
        public static void SimulateQuit()
        {
            if (quitting != null)
                quitting();
        }
    }

    public static class Time
    {
        public static float unscaledTime
        {
            get { return 0f; }
        }
    }

    public static class Debug
    {
        public static void Log(object message)
        {
        }

        public static void LogWarning(object message)
        {
        }

        public static void LogError(object message)
        {
        }

        public static void LogException(Exception exception)
        {
        }
    }

    public static class GUILayout
    {
        public static void Label(string text, params object[] options)
        {
        }

        public static bool Button(string text, params object[] options)
        {
            return false;
        }
    }

    public enum RuntimeInitializeLoadType
    {
        AfterSceneLoad,
        BeforeSceneLoad,
        AfterAssembliesLoaded,
        BeforeSplashScreen,
        SubsystemRegistration,
    }

    [AttributeUsage(AttributeTargets.Method)]
    public sealed class RuntimeInitializeOnLoadMethodAttribute : Attribute
    {
        public RuntimeInitializeOnLoadMethodAttribute(RuntimeInitializeLoadType loadType)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class AddComponentMenu : Attribute
    {
        public AddComponentMenu(string menuName)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DisallowMultipleComponent : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute
    {
        public TooltipAttribute(string tooltip)
        {
        }
    }
}

namespace UnityEditor
{
    public enum PlayModeStateChange
    {
        EnteredEditMode,
        ExitingEditMode,
        EnteredPlayMode,
        ExitingPlayMode,
    }

    public static class EditorApplication
    {
        public delegate void CallbackFunction();

        public static CallbackFunction update;

        public static event Action<PlayModeStateChange> playModeStateChanged;

        public static void SimulatePlayModeStateChange(PlayModeStateChange change)
        {
            if (playModeStateChanged != null)
                playModeStateChanged(change);
        }
    }

    public static class AssemblyReloadEvents
    {
        public delegate void AssemblyReloadCallback();

        public static event AssemblyReloadCallback beforeAssemblyReload;

        public static void SimulateBeforeAssemblyReload()
        {
            if (beforeAssemblyReload != null)
                beforeAssemblyReload();
        }
    }

    [AttributeUsage(AttributeTargets.Method)]
    public sealed class InitializeOnLoadMethodAttribute : Attribute
    {
    }

    public static class AssetDatabase
    {
        public static string GUIDToAssetPath(string guid)
        {
            return "";
        }
    }
}

namespace UnityEditor.Build
{
    public interface IOrderedCallback
    {
        int callbackOrder { get; }
    }

    public interface IUnityLinkerProcessor : IOrderedCallback
    {
        string GenerateAdditionalLinkXmlFile(UnityEditor.Build.Reporting.BuildReport report,
            UnityEditor.UnityLinker.UnityLinkerBuildPipelineData data);
    }
}

namespace UnityEditor.Build.Reporting
{
    public sealed class BuildReport
    {
    }
}

namespace UnityEditor.UnityLinker
{
    public sealed class UnityLinkerBuildPipelineData
    {
    }
}
